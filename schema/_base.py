"""The one Struct every contract model inherits."""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ["INT64_MAX", "Base", "Int64", "UInt32"]

# Integers are bounded to what storage and clients hold: a number past a bound is
# INVALID_PARAMS with its path, never an overflow in the database driver.
INT64_MAX = 2**63 - 1
Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=INT64_MAX)]
UInt32 = Annotated[int, msgspec.Meta(ge=0, le=2**32 - 1)]  # LiveKit's counters


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
