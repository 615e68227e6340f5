"""The query service's configuration: ``PRONTO_QUERY_*`` environment variables, validated at start."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator

from pronto.auth import token_problem
from pronto.settings import CommonSettings
from pronto.time_zones import TimeZoneName


class QuerySettings(CommonSettings):
    query_http_host: str = "127.0.0.1"
    query_http_port: int = Field(default=8084, ge=0, le=65535)
    # Unset: the read models live in the service's memory and are rebuilt from the topics at every
    # start (the demo; no MongoDB can run on our build machines). Production sets a MongoDB URI.
    query_mongodb_uri: SecretStr | None = None
    query_mongodb_database: str = "pronto"
    # The consumer group of the projectors sharing one MongoDB (unused with the memory store).
    query_group_id: str = "pronto-query"
    # Tenant -> bearer token: a token reads its own shop's conversations, operators and reports only.
    query_tokens: dict[str, SecretStr] = Field(
        default_factory=lambda: {"demo-shop": SecretStr("demo-query-token")}
    )
    # Tenant -> IANA time zone: where a shop's day starts, for daily reports and operator figures.
    query_timezones: dict[str, TimeZoneName] = Field(default_factory=dict)
    query_default_timezone: TimeZoneName = "UTC"
    query_fetch_wait_ms: int = Field(default=100, ge=1, le=1500)
    # The web console (/console/): operators sign in with their own token (tenant -> operator id ->
    # token); supervisors with the tenant's query token. The console acts for operators through
    # ingest's operator API with the tenant's ingest token.
    query_operator_tokens: dict[str, dict[str, SecretStr]] = Field(default_factory=dict)
    query_ingest_target: str = "127.0.0.1:50051"
    query_ingest_tokens: dict[str, SecretStr] = Field(
        default_factory=lambda: {"demo-shop": SecretStr("demo-token")}
    )
    # The share of first responses in time the wallboard holds compliance against.
    query_sla_objective: float = Field(default=0.95, gt=0, le=1)

    @model_validator(mode="after")
    def _usable(self) -> Self:
        problem = token_problem(self.query_tokens, "PRONTO_QUERY_TOKENS", self.environment == "production")
        if problem:
            raise ValueError(problem)
        operators = {
            f"{t}/{o}": token
            for t, tokens in self.query_operator_tokens.items()
            for o, token in tokens.items()
        }
        problem = token_problem(
            {**{f"supervisors of {t}": tok for t, tok in self.query_tokens.items()}, **operators},
            "PRONTO_QUERY_TOKENS and PRONTO_QUERY_OPERATOR_TOKENS",
            self.environment == "production" and bool(operators),
        )
        if problem:  # one token for two callers would sign one in as the other, maybe in another shop
            raise ValueError(problem)
        if self.environment == "production" and self.query_mongodb_uri is None:
            raise ValueError(
                "PRONTO_QUERY_MONGODB_URI is required in production "
                "(the memory store forgets at every restart)"
            )
        return self

    def timezone_of(self, tenant: str) -> str:
        return self.query_timezones.get(tenant, self.query_default_timezone)
