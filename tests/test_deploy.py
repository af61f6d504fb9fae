"""The deployment kit: the compose file renders, and the image is built from the lock as
a non-root user. (Building the image needs a Docker daemon; ``docker compose config``
and the Dockerfile's own words are checked here.)"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> list[str] | None:
    if shutil.which("docker") is not None:
        plugin = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if plugin.returncode == 0:
            return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def test_compose_wires_roomrpc_postgres_and_livekit_webhooks() -> None:
    compose = _compose()
    if compose is None:
        pytest.skip("neither 'docker compose' nor docker-compose is installed")
    done = subprocess.run(
        [*compose, "-f", str(ROOT / "compose.yaml"), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=ROOT,
    )
    rendered = done.stdout
    assert {"roomrpc:", "postgres:", "livekit:"} <= set(rendered.split())
    assert "image: livekit/livekit-server" in rendered and "- --dev" in rendered
    assert "http://roomrpc:8080/livekit/webhook" in rendered
    assert "DATABASE_URL: postgresql://roomrpc:roomrpc@postgres:5432/roomrpc" in rendered
    assert "LIVEKIT_API_URL: http://livekit:7880" in rendered


def test_the_image_is_built_from_the_lock_and_runs_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "COPY pyproject.toml uv.lock" in text
    assert text.count("uv sync --locked") == 2  # dependencies, then the project
    assert "--extra dev" not in text
    final = text.rsplit("FROM ", 1)[1]
    assert "USER roomrpc" in final and "useradd --system" in final
    cmd = next(line for line in final.splitlines() if line.startswith("CMD "))
    assert json.loads(cmd.removeprefix("CMD ")) == ["roomrpc", "serve"]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "data", "**/node_modules"} <= set(ignored)
