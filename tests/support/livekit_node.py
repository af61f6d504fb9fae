"""LiveKit's own Node SDKs: ``livekit-server-sdk`` verifying our tokens and webhooks, and
``livekit-client``'s ``TokenSource.endpoint`` fetching from our token endpoint.

``make setup-node`` installs them from ``tests/livekit_node/package-lock.json``; the
checks run ``tests/livekit_node/verify.mjs`` and ``token_source.mjs`` under Node.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

__all__ = ["NodeVerdicts", "token_source_fetch", "verify_with_node"]

_FOLDER = Path(__file__).resolve().parents[1] / "livekit_node"
_SDK = _FOLDER / "node_modules" / "livekit-server-sdk" / "package.json"
_CLIENT = _FOLDER / "node_modules" / "livekit-client" / "package.json"

NodeVerdicts = dict[str, list[dict[str, Any]]]


def verify_with_node(
    api_key: str,
    api_secret: str,
    *,
    tokens: Sequence[str] = (),
    webhooks: Sequence[tuple[bytes, str]] = (),
) -> NodeVerdicts:
    """``{"tokens": [{"claims"} | {"error"}], "webhooks": [{"event"} | {"error"}]}``, in order:
    ``TokenVerifier.verify`` of each token, ``WebhookReceiver.receive`` of each (body, header)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js 20 or newer is needed to check tokens with livekit-server-sdk")
    if not _SDK.is_file():
        pytest.fail("tests/livekit_node/node_modules is missing: run `make setup-node`")
    request = {
        "apiKey": api_key,
        "apiSecret": api_secret,
        "tokens": list(tokens),
        "webhooks": [{"body": b.decode(), "authorization": a} for b, a in webhooks],
    }
    done = subprocess.run(
        [node, str(_FOLDER / "verify.mjs")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=_FOLDER,
    )
    if done.returncode != 0:
        pytest.fail(f"verify.mjs failed:\n{done.stdout}{done.stderr}")
    verdicts: NodeVerdicts = json.loads(done.stdout)
    return verdicts


async def token_source_fetch(
    url: str, authorization: str | None, fetches: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``TokenSource.endpoint(url, {headers: {Authorization}}).fetch(options)`` of
    ``livekit-client`` under Node, for each options object: ``{"response", "cached"}`` or
    ``{"error"}``. Runs as a subprocess without blocking the loop the server runs on."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js 20 or newer is needed to run livekit-client")
    if not _CLIENT.is_file():
        pytest.fail("tests/livekit_node/node_modules is missing: run `make setup-node`")
    request = {"url": url, "authorization": authorization, "fetches": list(fetches)}
    process = await asyncio.create_subprocess_exec(
        node,
        str(_FOLDER / "token_source.mjs"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=_FOLDER,
    )
    out, err = await asyncio.wait_for(process.communicate(json.dumps(request).encode()), 60)
    if process.returncode != 0:
        pytest.fail(f"token_source.mjs failed:\n{out.decode()}{err.decode()}")
    found: list[dict[str, Any]] = json.loads(out)["fetches"]
    return found
