"""The one Struct every contract model inherits."""

from __future__ import annotations

import msgspec

__all__ = ["Base"]


class Base(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """Base of every contract Struct.

    Options, and why:

    - ``rename="camel"``: Python attributes are snake_case, the wire is camelCase
      (``room_being_id`` travels as ``roomBeingId``), as a TypeScript client expects.
    - ``forbid_unknown_fields=True``: a misspelt field is an error that names it,
      never a silently ignored value.
    - ``kw_only=True``: models are built with keywords, so adding a field with a
      default never shifts positional meaning.
    """
