"""The operator's commands, and the first run a newcomer gets from ``make run``."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import jwt
from click.testing import CliRunner

from server.cli import main


def _run(tmp_path: Path, *args: str, **env: str) -> Any:
    env = {"DATA_DIR": str(tmp_path / "data"), "AUTH_SECRET": "", "DATABASE_URL": "", **env}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def _secret(tmp_path: Path) -> str:
    return (tmp_path / "data" / "auth_secret").read_text().strip()


def _make_secret(tmp_path: Path) -> None:
    """What the server's first start leaves behind."""
    from server.auth import load_secret
    from tests.support.app import make_settings

    load_secret(make_settings(DATA_DIR=str(tmp_path / "data")))


def test_seed_then_token_then_being_create(tmp_path: Path) -> None:
    seeded = _run(tmp_path, "seed")
    assert seeded.exit_code == 0 and "@demo-space" in seeded.output
    assert f"database: SQLite {tmp_path / 'data' / 'roomrpc.db'}" in seeded.output
    assert "already there" in _run(tmp_path, "seed").output
    _make_secret(tmp_path)
    issued = _run(tmp_path, "token", "@alice", "--ttl", "2h", "--admin", "--device", "tab-2")
    assert issued.exit_code == 0
    claims = jwt.decode(issued.stdout.strip(), _secret(tmp_path), algorithms=["HS256"])
    assert claims["sub"] == "@alice" and claims["roles"] == ["admin"]
    assert claims["device"] == "tab-2"
    assert 7190 <= claims["exp"] - time.time() <= 7200
    assert (tmp_path / "data" / "auth_secret").stat().st_mode & 0o777 == 0o600
    assert _secret(tmp_path) not in seeded.output + issued.output
    created = _run(tmp_path, "being", "create", "@carol", "--type", "user", "--name", "Carol")
    assert json.loads(created.stdout)["type"] == "user"
    again = _run(tmp_path, "being", "create", "@carol", "--type", "user", "--name", "Carol")
    assert again.exit_code == 1 and "already exists" in again.output


def test_bad_commands_say_what_is_wrong(tmp_path: Path) -> None:
    _run(tmp_path, "seed")
    _make_secret(tmp_path)
    missing = _run(tmp_path, "token", "@ghost")
    assert missing.exit_code == 1 and "no being @ghost in this database" in missing.output
    assert "roomrpc being create @ghost --type user" in missing.output
    bad_ttl = _run(tmp_path, "token", "@alice", "--ttl", "soon")
    assert bad_ttl.exit_code == 2 and "duration" in bad_ttl.output
    bad_db = CliRunner().invoke(
        main, ["seed"], env={"DATA_DIR": str(tmp_path), "DATABASE_URL": "mysql://u:pw@y/z"}
    )
    assert bad_db.exit_code == 2
    assert bad_db.output.strip() == (
        "roomrpc: invalid setting DATABASE_URL='mysql://u:***@y/z': unsupported database "
        "'mysql' (roomrpc runs on sqlite or postgresql)"
    )
    assert "Traceback" not in missing.output + bad_db.output


def test_read_and_mint_commands_never_create_a_database_or_a_secret(tmp_path: Path) -> None:
    for args in (
        ["token", "@alice"],
        ["being", "list"],
        ["being", "delete", "@alice"],
        ["space", "members", "@demo-space"],
        ["space", "add-member", "@demo-space", "@bob"],
    ):
        done = _run(tmp_path, *args)
        assert done.exit_code == 1, args
        where = tmp_path / "data" / "roomrpc.db"
        assert f"no database file at {where}" in done.output
        assert "DATA_DIR" in done.output and "folder the server runs in" in done.output
        assert "create it with" not in done.output
    assert not (tmp_path / "data").exists()
    _run(tmp_path, "seed")  # a database, but no secret: the server never started here
    done = _run(tmp_path, "token", "@alice")
    assert done.exit_code == 1
    secret = tmp_path / "data" / "auth_secret"
    assert f"AUTH_SECRET is not set and there is no generated secret at {secret}" in done.output
    assert not secret.exists()


def test_ids_are_checked_first_with_the_rule(tmp_path: Path) -> None:
    for args in (
        ["token", "alice"],
        ["being", "create", "alice", "--type", "user", "--name", "A"],
        ["being", "create", "@b", "--type", "bot", "--name", "B", "--owner", "alice"],
        ["space", "set-role", "@demo-space", "Bob!", "owner"],
    ):
        done = _run(tmp_path, *args)
        assert done.exit_code == 2, args
        assert "is not a being id: a being id is '@' then 1 to 63 of a-z 0-9" in done.output
    assert "did you mean @alice?" in _run(tmp_path, "token", "alice").output
    assert not (tmp_path / "data").exists()  # refused before anything was opened


def test_a_missing_owner_is_named(tmp_path: Path) -> None:
    done = _run(
        tmp_path, "being", "create", "@b", "--type", "bot", "--name", "B", "--owner", "@nobody"
    )
    assert done.exit_code == 1
    assert "no being @nobody (the --owner)" in done.output
    assert "no longer exists" not in done.output


def test_options_that_do_not_apply_are_refused(tmp_path: Path) -> None:
    done = _run(
        tmp_path, "being", "create", "@b", "--type", "bot", "--name", "B", "--visibility", "private"
    )
    assert (
        done.exit_code == 2
        and "--visibility applies to spaces only, and @b is a bot" in done.output
    )
    done = _run(
        tmp_path, "being", "create", "@u", "--type", "user", "--name", "U", "--owner", "@alice"
    )
    assert done.exit_code == 2 and "--owner applies to spaces and bots only" in done.output
    done = _run(tmp_path, "being", "create", "@u", "--name", "U")
    assert done.exit_code == 2 and "Missing option '--type'" in done.output


def test_help_shows_defaults(tmp_path: Path) -> None:
    assert "[default: 1h]" in _run(tmp_path, "token", "--help").output
    assert "[default: public]" in _run(tmp_path, "being", "create", "--help").output
    assert "[default: member]" in _run(tmp_path, "space", "add-member", "--help").output
    serve = _run(tmp_path, "serve", "--help").output
    assert "[default: 1;" in serve and "127.0.0.1]" in serve and "or 8080]" in serve


def test_list_delete_and_manage_members(tmp_path: Path) -> None:
    _run(tmp_path, "seed")
    listed = _run(tmp_path, "being", "list").stdout.split("\n")
    assert [line.split()[0] for line in listed if line] == [
        "@alice",
        "@alice-private",
        "@bob",
        "@demo-space",
    ]
    spaces = _run(tmp_path, "being", "list", "--type", "space", "--json").stdout.splitlines()
    assert [json.loads(line)["id"] for line in spaces] == ["@alice-private", "@demo-space"]
    members = _run(tmp_path, "space", "members", "@demo-space").stdout.split()
    assert members == ["@alice", "owner", "@bob", "member"]
    assert (
        _run(
            tmp_path, "space", "add-member", "@alice-private", "@bob", "--role", "listener"
        ).exit_code
        == 0
    )
    again = _run(tmp_path, "space", "add-member", "@alice-private", "@bob")
    assert again.exit_code == 1 and "already a member" in again.output
    ghost = _run(tmp_path, "space", "add-member", "@demo-space", "@ghost")
    assert ghost.exit_code == 1 and "no being @ghost" in ghost.output
    not_space = _run(tmp_path, "space", "members", "@bob")
    assert not_space.exit_code == 1 and "@bob is a user, not a space" in not_space.output
    last = _run(tmp_path, "space", "set-role", "@demo-space", "@alice", "member")
    assert last.exit_code == 1 and "last owner of @demo-space" in last.output
    assert _run(tmp_path, "space", "set-role", "@demo-space", "@bob", "owner").exit_code == 0
    assert _run(tmp_path, "space", "set-role", "@demo-space", "@alice", "member").exit_code == 0
    assert _run(tmp_path, "space", "remove-member", "@demo-space", "@alice").exit_code == 0
    assert _run(tmp_path, "space", "members", "@demo-space").stdout.split() == ["@bob", "owner"]
    owner = _run(tmp_path, "being", "delete", "@bob")
    assert owner.exit_code == 1 and "last owner of @demo-space" in owner.output
    assert (
        _run(tmp_path, "being", "delete", "@demo-space").stdout.strip()
        == "deleted space @demo-space"
    )
    gone = _run(tmp_path, "being", "delete", "@demo-space")
    assert gone.exit_code == 1 and "no being @demo-space" in gone.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(cwd: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    """``roomrpc serve`` as ``make run`` starts it, until it listens; returns its output."""
    env = {k: v for k, v in os.environ.items() if k not in ("AUTH_SECRET", "DATABASE_URL")}
    roomrpc = Path(sys.executable).parent / "roomrpc"
    process = subprocess.Popen(
        [str(roomrpc), "serve", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if line.startswith("curl ") or "'roomrpc seed' makes it" in line:
            return process, lines
    raise AssertionError("".join(lines))


def _curl(line: str) -> Any:
    """Run the printed curl line's request (no curl binary needed)."""
    url = re.search(r"curl -s (\S+)", line)
    token = re.search(r"Bearer ([\w.-]+)", line)
    body = re.search(r"-d '(.*)'$", line.strip())
    assert url and token and body, line
    request = urllib.request.Request(
        url[1],
        data=body[1].encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token[1]}"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    with opener.open(request, timeout=5) as response:
        return json.loads(response.read())


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=10)
    assert process.stdout is not None
    process.stdout.close()


def test_first_run_seeds_the_demo_world_and_prints_a_working_curl_line(tmp_path: Path) -> None:
    port = _free_port()
    process, lines = _serve(tmp_path, port)
    try:
        output = "".join(lines)
        assert "seeded the demo world" in output and "AUTH_SECRET is not set" in output
        curl = next(line for line in lines if line.startswith("curl "))
        assert _curl(curl)["result"]["id"] == "@demo-space"
        assert _secret_of(tmp_path) not in output
    finally:
        _stop(process)
    process, lines = _serve(tmp_path, port)  # a restart: same secret, no second seeding
    try:
        assert "seeded" not in "".join(lines)
        assert _curl(curl)["result"]["id"] == "@demo-space"  # yesterday's token still works
    finally:
        _stop(process)


def _secret_of(cwd: Path) -> str:
    return (cwd / "data" / "auth_secret").read_text().strip()
