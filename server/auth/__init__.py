"""Bearer tokens: JWTs whose ``sub`` is a being id, and the resolver of ``Authorization``."""

from server.auth.tokens import (
    SECRET_FILE,
    BearerResolver,
    SecretMissing,
    Tokens,
    load_secret,
    secret_path,
)

__all__ = ["SECRET_FILE", "BearerResolver", "SecretMissing", "Tokens", "load_secret", "secret_path"]
