"""``python -m server``: the same as the ``roomrpc`` command."""

from server.cli import main

main()
