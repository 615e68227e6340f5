"""Who is calling the console: a shop's supervisor (the tenant's query token) or one operator."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pydantic import SecretStr

from pronto.auth import TokenAuthenticator
from pronto.errors import Unauthenticated


@dataclass(frozen=True)
class Caller:
    tenant: str
    # None for a supervisor, who sees the whole shop; an operator sees their own conversations.
    operator_id: str | None = None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class ConsoleAuth:
    def __init__(self, supervisors: TokenAuthenticator, operators: dict[str, dict[str, SecretStr]]) -> None:
        self._supervisors = supervisors
        self._operators = {
            _digest(token.get_secret_value()): Caller(tenant, operator_id)
            for tenant, tokens in operators.items()
            for operator_id, token in tokens.items()
        }

    def caller(self, token: str | None) -> Caller:
        """The caller of a bearer token (``Authorization`` header, or ``token`` for event streams)."""
        if not token:
            raise Unauthenticated("sign in: send 'authorization: Bearer <token>'")
        operator = self._operators.get(_digest(token))
        if operator is not None:
            return operator
        return Caller(self._supervisors.tenant_for(f"Bearer {token}"))
