"""Integrators authenticate with a bearer token bound to exactly one tenant."""

from __future__ import annotations

import hashlib

from pydantic import SecretStr

from pronto.errors import PermissionDenied, Unauthenticated


def _digest(token: str) -> bytes:
    # Looking up digests rather than raw tokens keeps the lookup's timing independent of the token.
    return hashlib.sha256(token.encode()).digest()


class TokenAuthenticator:
    def __init__(self, tokens: dict[str, SecretStr]) -> None:
        self._tenants = {_digest(secret.get_secret_value()): tenant for tenant, secret in tokens.items()}

    def tenant_for(self, authorization: str | None) -> str:
        """The tenant of an ``Authorization: Bearer <token>`` value."""
        if not authorization:
            raise Unauthenticated("missing authorization: send 'authorization: Bearer <token>'")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("authorization must be 'Bearer <token>'")
        tenant = self._tenants.get(_digest(token.strip()))
        if tenant is None:
            raise Unauthenticated("unknown token")
        return tenant


def resolve_tenant(token_tenant: str, requested: str) -> str:
    """The tenant an event is published for: the token's own, never another."""
    if requested and requested != token_tenant:
        raise PermissionDenied(f"this token publishes for tenant {token_tenant!r}, not {requested!r}")
    return token_tenant


MIN_TOKEN_LENGTH = 24


def token_problem(tokens: dict[str, SecretStr], variable: str, production: bool) -> str:
    """Why a tenant -> token table cannot be used, or "": tokens shared by tenants, weak in production."""
    seen: dict[str, str] = {}
    for tenant, token in tokens.items():
        other = seen.setdefault(token.get_secret_value(), tenant)
        if other != tenant:
            return f"{variable} gives tenants {other!r} and {tenant!r} the same token"
    weak = [t for t, s in tokens.items() if len(s.get_secret_value()) < MIN_TOKEN_LENGTH]
    if production and (weak or not tokens):
        return (
            f"{variable} must give every tenant a token of at least {MIN_TOKEN_LENGTH} characters "
            f"in production; weak: {', '.join(weak) or 'no tokens set'}"
        )
    return ""
