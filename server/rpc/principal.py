"""Who is calling."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Principal"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a being id and the roles its credentials carry."""

    being_id: str
    roles: frozenset[str] = frozenset()
    expires_at: float | None = field(default=None, compare=False)  # the token's exp (Unix time)
    device: str | None = None  # the tab or device the token was minted for

    @property
    def is_admin(self) -> bool:
        """True for trusted services and operators."""
        return "admin" in self.roles
