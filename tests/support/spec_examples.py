"""The spec's example procedures, as the tests mount them (see schema/jsonrpc_examples.py)."""

from schema.jsonrpc_examples import *  # noqa: F403
from schema.jsonrpc_examples import CONTRACT, SubtractInput, subtract
from server.procedures.jsonrpc_examples import router

__all__ = ["CONTRACT", "SubtractInput", "router", "subtract"]
