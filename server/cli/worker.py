"""One process of ``roomrpc serve --workers N``: ``python -m server.cli.worker HOST PORT``.

Its supervisor has checked the port and migrated the database; a worker only serves,
sharing the port (SO_REUSEPORT). It is started without the command line: click and
the other commands are never loaded into it (~3 MiB resident).
"""

from __future__ import annotations

import sys

from server.cli._serving import fail, load, quiet_libraries, serve_app

__all__ = ["main"]


def main(argv: list[str]) -> None:
    """Serve on ``argv``'s HOST and PORT with the settings of the environment."""
    if len(argv) != 2 or not argv[1].isdigit():
        fail("usage: python -m server.cli.worker HOST PORT", 2)
    host, port = argv[0], int(argv[1])
    settings = load()
    from server.http.loop import run
    from server.observe import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    quiet_libraries(settings)
    run(serve_app(settings, host, port, reuse_port=True, prepared=None), use_uvloop=settings.uvloop)


if __name__ == "__main__":
    main(sys.argv[1:])
