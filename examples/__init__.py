"""Programs built on roomrpc.client: run them as scripts (python examples/echo_bot.py)."""
