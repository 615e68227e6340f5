"""Ingest's configuration: ``PRONTO_*`` environment variables, validated at start."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator

from pronto.settings import CommonSettings, _env

# The demo's tenant and token: accepted only in development.
DEVELOPMENT_TOKENS = {"demo-shop": SecretStr("demo-token")}
MIN_TOKEN_LENGTH = 24


class IngestSettings(CommonSettings):
    grpc_host: str = Field("127.0.0.1", validation_alias=_env("PRONTO_INGEST_GRPC_HOST"))
    grpc_port: int = Field(50051, ge=0, le=65535, validation_alias=_env("PRONTO_INGEST_GRPC_PORT"))
    http_host: str = Field("127.0.0.1", validation_alias=_env("PRONTO_INGEST_HTTP_HOST"))
    http_port: int = Field(8080, ge=0, le=65535, validation_alias=_env("PRONTO_INGEST_HTTP_PORT"))
    # Tenant -> bearer token, as JSON: {"shop-a": "…"}. A token publishes for its tenant only.
    tokens: dict[str, SecretStr] = Field(
        default_factory=lambda: dict(DEVELOPMENT_TOKENS), validation_alias=_env("PRONTO_INGEST_TOKENS")
    )
    ack_timeout_s: float = Field(5.0, gt=0, validation_alias=_env("PRONTO_INGEST_ACK_TIMEOUT_S"))
    retry_after_s: float = Field(1.0, gt=0, validation_alias=_env("PRONTO_INGEST_RETRY_AFTER_S"))
    # How many recently accepted event ids ingest remembers to answer retries without a second write.
    dedupe_capacity: int = Field(200_000, ge=0, validation_alias=_env("PRONTO_INGEST_DEDUPE_CAPACITY"))
    # Unacknowledged events one PublishStream may have in flight before reading more.
    stream_window: int = Field(2_000, ge=1, validation_alias=_env("PRONTO_INGEST_STREAM_WINDOW"))
    linger_ms: int = Field(2, ge=0, validation_alias=_env("PRONTO_INGEST_LINGER_MS"))

    @model_validator(mode="after")
    def _refuse_weak_tokens_in_production(self) -> Self:
        if self.environment != "production":
            return self
        weak = [t for t, s in self.tokens.items() if len(s.get_secret_value()) < MIN_TOKEN_LENGTH]
        if weak or not self.tokens:
            raise ValueError(
                "PRONTO_INGEST_TOKENS must give every tenant a token of at least "
                f"{MIN_TOKEN_LENGTH} characters in production; weak: {', '.join(weak) or 'no tokens set'}"
            )
        return self
