"""Log set-up for every command: text for people, ``LOG_FORMAT=json`` for collectors."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, Literal

import msgspec

__all__ = ["JsonFormatter", "configure_logging"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Third-party loggers whose INFO lines say nothing an operator needs (Alembic's
# "Context impl SQLiteImpl.", "Will assume non-transactional DDL.").
_QUIET = ("alembic", "alembic.runtime.migration", "watchfiles")
# Attributes every LogRecord has: anything else was passed with ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}
_encode = msgspec.json.Encoder().encode


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the ``extra`` fields, and
    the traceback (as one string) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _encode(entry).decode()


def configure_logging(level: str, log_format: Literal["text", "json"] = "text") -> None:
    """Route every logger to stderr once, in the chosen format (called again: replaced)."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    logging.captureWarnings(True)  # a library's warning is a log line, not a path dump
