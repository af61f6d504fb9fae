"""Bearer tokens: JWTs whose ``sub`` is a being id, and the resolver of ``Authorization``."""

from server.auth.tokens import SECRET_FILE, BearerResolver, Tokens, load_secret

__all__ = ["SECRET_FILE", "BearerResolver", "Tokens", "load_secret"]
