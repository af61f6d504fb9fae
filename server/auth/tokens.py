"""Bearer tokens: JWTs (HS256, PyJWT) whose ``sub`` is a being id, and the resolver
that turns an ``Authorization`` header into a ``Principal``."""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import jwt
import msgspec

from server.rpc import Principal, RpcError
from server.rpc.params import issue_of
from server.settings import Settings
from server.storage import Storage, beings

__all__ = [
    "SECRET_FILE",
    "BearerResolver",
    "SecretMissing",
    "Tokens",
    "load_secret",
    "secret_path",
]

SECRET_FILE = "auth_secret"
ALGORITHM = "HS256"
PUBLIC_ALGORITHMS = ("RS256", "ES256")  # an external identity provider's signatures
_BEING_ID = r"^@[a-z0-9._-]{1,63}$(?!\n)"  # the whole string: no trailing newline
_DEVICE = r"^[A-Za-z0-9._-]{1,32}$(?!\n)"  # schema.livekit.Device
_LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z: a later time is not a time
_CACHE_SIZE = 4096
log = logging.getLogger("roomrpc.auth")


class SecretMissing(LookupError):
    """No ``AUTH_SECRET`` and no generated secret where one was looked for."""


def secret_path(settings: Settings) -> Path:
    """Where the generated secret is kept."""
    return (Path(settings.data_dir) / SECRET_FILE).resolve()


def load_secret(settings: Settings, *, create: bool = True) -> str:
    """``AUTH_SECRET``, or a secret generated once and kept in the data folder.

    The generated one survives restarts, so dev tokens keep working; its value
    is never logged. With ``create=False`` a missing one raises ``SecretMissing``.
    """
    if settings.auth_secret is not None:
        return settings.auth_secret
    path = secret_path(settings)
    if not path.is_file() and not create:
        raise SecretMissing(str(path))
    if not path.is_file() and _create_secret(path):
        log.warning("AUTH_SECRET is not set: generated one in %s (kept across restarts)", path)
    return path.read_text().strip()


def _create_secret(path: Path) -> bool:
    """Write a new secret at ``path`` whole, unless another process did first: True if
    this one did. Written to a file of its own, then linked into place, so that processes
    starting together (``serve --workers N``) never read it half-written and all keep the
    one that was linked first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(draft, path)  # atomic, and never replaces a secret already there
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: renamed, unless one came first
            if path.exists():
                return False
            draft.rename(path)
        return True
    finally:
        draft.unlink(missing_ok=True)


class Tokens:
    """Mints and verifies roomrpc's bearer tokens."""

    def __init__(
        self,
        secret: str,
        *,
        issuer: str | None = None,
        audience: str | None = None,
        public_key: str | None = None,
        leeway: float = 0,
    ):
        self._secret = secret
        self._leeway = leeway  # seconds of clock drift allowed on iat, nbf and exp
        self._issuer = issuer
        self._audience = audience
        self._options: Any = {"require": ["exp", "iat", "sub"]}
        # Each algorithm has its own key: a public key is never taken as an HMAC secret.
        self._keys: dict[str, Any] = {ALGORITHM: secret}
        if public_key is not None:
            self._keys.update(dict.fromkeys(PUBLIC_ALGORITHMS, public_key))

    @classmethod
    def from_settings(cls, settings: Settings, *, create_secret: bool = True) -> Tokens:
        """Tokens keyed with ``AUTH_SECRET`` (or the generated secret), and the identity
        provider's ``AUTH_PUBLIC_KEY`` when set."""
        public_key = settings.auth_public_key
        if public_key is not None and "-----BEGIN" not in public_key:
            public_key = Path(public_key).read_text()  # a path to the PEM file
        return cls(
            load_secret(settings, create=create_secret),
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            public_key=public_key,
            leeway=settings.auth_leeway_seconds,
        )

    def mint(
        self,
        being_id: str,
        *,
        ttl: timedelta,
        roles: Iterable[str] = (),
        device: str | None = None,
    ) -> str:
        """A signed token for ``being_id``, valid for ``ttl``; ``device`` labels the tab or
        device it is for (its LiveKit identity becomes ``@being#device``)."""
        now = time.time()
        claims: dict[str, Any] = {
            "sub": being_id,
            "iat": round(now, 6),  # a NumericDate may have a fraction: see _issued_before
            "exp": int(now) + int(ttl.total_seconds()),
        }
        if roles:
            claims["roles"] = sorted(set(roles))
        if device is not None:
            claims["device"] = device
        if self._issuer:
            claims["iss"] = self._issuer
        if self._audience:
            claims["aud"] = self._audience
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> tuple[Principal, float, float]:
        """The principal a token names, when it expires and when it was issued;
        UNAUTHORIZED if it is not good."""
        try:
            algorithm = str(jwt.get_unverified_header(token).get("alg"))
            key = self._keys.get(algorithm)
            if key is None:
                message = f"Tokens signed with {algorithm!r} are not accepted"
                raise _unauthorized(message, "bad_algorithm")
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self._issuer,
                audience=self._audience,
                options=self._options,
                leeway=self._leeway,
            )
            read = msgspec.convert(claims, _Claims)
        except jwt.ExpiredSignatureError:
            raise _unauthorized("The token has expired", "token_expired") from None
        except jwt.InvalidSignatureError:
            raise _unauthorized("The token's signature is not valid", "bad_signature") from None
        except jwt.MissingRequiredClaimError as exc:  # the claim is one of ours: exp, iat or sub
            raise _unauthorized(f"The token has no {exc.claim!r} claim", "invalid_token") from None
        except jwt.PyJWTError as exc:  # PyJWT's own words stay in the log, as for any error
            log.info("token refused: %s", exc)
            raise _unauthorized(
                _REFUSED.get(type(exc), "The token is not valid"), "invalid_token"
            ) from None
        except msgspec.ValidationError as exc:  # a claim we read is not what it must be
            field = issue_of(exc).path.removeprefix("$.").partition("[")[0]
            message = _UNREADABLE.get(field, "The token is not valid")
            raise _unauthorized(message, "invalid_token") from None
        except (OverflowError, ValueError, TypeError) as exc:  # a time PyJWT cannot compare
            log.info("token refused: unreadable claim (%s)", type(exc).__name__)
            raise _unauthorized("The token's claims cannot be read", "invalid_token") from None
        # a socket ends at the token's own expiry; a request is accepted up to the leeway
        principal = Principal(read.sub, frozenset(read.roles), read.exp, device=read.device)
        return principal, read.exp + self._leeway, read.iat


class _Claims(msgspec.Struct):
    """The claims we read, each checked; other claims are left alone."""

    sub: Annotated[str, msgspec.Meta(pattern=_BEING_ID)]
    exp: Annotated[float, msgspec.Meta(ge=0, le=_LAST_SECOND)]
    iat: Annotated[float, msgspec.Meta(ge=0, le=_LAST_SECOND)]
    nbf: Annotated[float, msgspec.Meta(ge=0, le=_LAST_SECOND)] | None = None
    roles: list[str] = []
    device: Annotated[str, msgspec.Meta(pattern=_DEVICE)] | None = None


_UNREADABLE = {
    "sub": "The token's subject is not a being id",
    "roles": "The token's roles must be a list of strings",
    "exp": "The token's expiry is not a time",
    "iat": "The token's issue time is not a time",
    "nbf": "The token's start time is not a time",
    "device": "The token's device is not a device label",
}


_REFUSED: dict[type[Exception], str] = {
    jwt.DecodeError: "The token is not a well-formed JWT",
    jwt.InvalidAudienceError: "The token's audience is not accepted here",
    jwt.InvalidIssuerError: "The token's issuer is not accepted here",
    jwt.ImmatureSignatureError: "The token is not valid yet",
}


def _issued_before(iat: float, created: datetime) -> bool:
    """True when a token was issued before its being was created (another being of the
    same id, deleted since, or none at all): such a token never names this being.

    ``iat`` is compared at the precision it states. Our own tokens carry it to the
    microsecond, so the rule is exact for them. An identity provider's whole seconds
    are compared with the creation time cut to whole seconds: a token issued in the
    very second its being was created stays good, and only a being deleted and
    re-created within the second the old token was issued could be mistaken.
    """
    stamp = created.timestamp()
    return iat < (stamp if iat != int(iat) else int(stamp))


def _unauthorized(message: str, reason: str) -> RpcError:
    return RpcError("UNAUTHORIZED", message, reason=reason)


@dataclass(slots=True)
class _Seen:
    principal: Principal
    expires: float  # the token's exp
    checked: float  # when the being was last seen to exist
    deletions: int  # storage.deletions at that moment


class BearerResolver:
    """``Authorization: Bearer <jwt>`` → the principal, whose being must exist.

    A token is good while its being exists and was created before the token was
    issued (a being deleted and re-created under the same id is another being).
    A verified token is remembered (keyed by the token itself, so a forged one
    is never found), which spares the signature check and the lookup on the
    hot path. The being is re-read after ``cache_seconds``, and at once after
    any deletion in this process: a re-creation needs a deletion first.
    """

    def __init__(
        self, tokens: Tokens, storage: Callable[[], Storage], *, cache_seconds: float
    ) -> None:
        self._tokens = tokens
        self._storage = storage
        self._ttl = cache_seconds
        self._seen: dict[str, _Seen] = {}

    async def __call__(self, authorization: str) -> Principal | None:
        now = time.time()
        storage = self._storage()
        seen = self._seen.get(authorization)
        if seen is not None:
            if (
                now < seen.expires
                and now - seen.checked < self._ttl
                and (seen.deletions == storage.deletions)
            ):
                return seen.principal
            del self._seen[authorization]
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("Expected 'Authorization: Bearer <token>'", "invalid_token")
        principal, expires, issued = self._tokens.verify(token.strip())
        deletions = storage.deletions
        async with storage.read() as conn:
            kind = await beings.type_of(conn, principal.being_id)
            created = None if kind is None else await beings.created_at(conn, principal.being_id)
        if kind is None or created is None:
            raise _unauthorized(f"No being {principal.being_id}", "unknown_being")
        if kind == "space":  # a space is a place, never a caller
            raise _unauthorized("A space cannot sign in", "invalid_token")
        if _issued_before(issued, created):
            message = f"The token was issued before {principal.being_id} was created"
            raise _unauthorized(message, "token_predates_being")
        if self._ttl > 0:
            if len(self._seen) >= _CACHE_SIZE:
                self._seen.pop(next(iter(self._seen)))
            self._seen[authorization] = _Seen(principal, expires, now, deletions)
        return principal
