"""Settings from the environment: defaults, parsing, and one clear line on bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.settings import SettingsError, load_settings


def test_defaults() -> None:
    settings = load_settings({}, env_file=None)
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.rpc_max_body_bytes == 1024 * 1024
    assert settings.rpc_max_batch == 100
    assert settings.cors_origins == ()


def test_values_are_parsed() -> None:
    settings = load_settings(
        {"PORT": "9000", "RPC_CALL_TIMEOUT": "2.5", "CORS_ORIGINS": "https://a, https://b"},
        env_file=None,
    )
    assert settings.port == 9000
    assert settings.rpc_call_timeout == 2.5
    assert settings.cors_origins == ("https://a", "https://b")


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=9100\nHOST=0.0.0.0\n")
    settings = load_settings({"PORT": "9200"}, env_file=env_file)
    assert (settings.host, settings.port) == ("0.0.0.0", 9200)


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"PORT": "eighty"}, "invalid setting PORT='eighty': Expected `int`, got `str`"),
        ({"PORT": "70000"}, "invalid setting PORT='70000': Expected `int` <= 65535"),
        ({"RPC_CALL_TIMEOUT": "0"}, "invalid setting RPC_CALL_TIMEOUT='0': Expected `float` > 0.0"),
        ({"LOG_LEVEL": "LOUD"}, "invalid setting LOG_LEVEL='LOUD': Invalid enum value 'LOUD'"),
    ],
)
def test_malformed_value_names_the_variable(env: dict[str, str], line: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env, env_file=None)
    assert str(caught.value) == line


def test_serve_stops_with_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "PORT": "not-a-port"}
    done = subprocess.run(
        [sys.executable, "-m", "server", "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "roomrpc: invalid setting PORT='not-a-port': Expected `int`, got `str`"
    )


def test_repr_masks_secrets_and_database_passwords() -> None:
    settings = load_settings(
        {
            "AUTH_SECRET": "a" * 40,
            "DATABASE_URL": "postgresql://app:hunter2@db.internal/rooms",
            "LIVEKIT_URL": "ws://127.0.0.1:7880",
            "LIVEKIT_API_KEY": "devkey",
            "LIVEKIT_API_SECRET": "lk-secret-value",
        },
        env_file=None,
    )
    text = repr(settings)
    assert "a" * 40 not in text and "hunter2" not in text and "lk-secret-value" not in text
    assert "auth_secret='***'" in text
    assert "database_url='postgresql://app:***@db.internal/rooms'" in text
    assert "livekit_api_key='devkey'" in text
