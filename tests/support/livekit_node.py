"""LiveKit's own Node server SDK (``livekit-server-sdk``) verifying our tokens and webhooks.

``make setup-node`` installs it from ``tests/livekit_node/package-lock.json``; the
check runs ``tests/livekit_node/verify.mjs`` under Node with what Python hands it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

__all__ = ["NodeVerdicts", "verify_with_node"]

_FOLDER = Path(__file__).resolve().parents[1] / "livekit_node"
_SDK = _FOLDER / "node_modules" / "livekit-server-sdk" / "package.json"

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
