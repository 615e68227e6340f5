"""Ingest's configuration: ``PRONTO_*`` environment variables, validated at start."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator

from pronto.settings import CommonSettings

# The demo's tenant and token: refused in production.
DEVELOPMENT_TOKENS = {"demo-shop": SecretStr("demo-token")}
MIN_TOKEN_LENGTH = 24


class IngestSettings(CommonSettings):
    ingest_grpc_host: str = "127.0.0.1"
    ingest_grpc_port: int = Field(default=50051, ge=0, le=65535)
    ingest_http_host: str = "127.0.0.1"
    ingest_http_port: int = Field(default=8080, ge=0, le=65535)
    # Tenant -> bearer token, as JSON: {"shop-a": "…"}. A token publishes for its own tenant only.
    ingest_tokens: dict[str, SecretStr] = Field(default_factory=lambda: dict(DEVELOPMENT_TOKENS))
    # How long a caller waits for the broker's acknowledgement before getting UNAVAILABLE.
    ingest_ack_timeout_s: float = Field(default=5.0, gt=0)
    ingest_retry_after_s: float = Field(default=1.0, gt=0)
    # How many recently accepted event ids ingest remembers, to answer retries without a second write.
    ingest_dedupe_capacity: int = Field(default=200_000, ge=0)
    # Unacknowledged request batches one PublishStream may have in flight before ingest reads more.
    ingest_stream_window: int = Field(default=64, ge=1)
    ingest_linger_ms: int = Field(default=2, ge=0)

    @model_validator(mode="after")
    def _refuse_weak_tokens_in_production(self) -> Self:
        if self.environment != "production":
            return self
        weak = [t for t, s in self.ingest_tokens.items() if len(s.get_secret_value()) < MIN_TOKEN_LENGTH]
        if weak or not self.ingest_tokens:
            raise ValueError(
                "PRONTO_INGEST_TOKENS must give every tenant a token of at least "
                f"{MIN_TOKEN_LENGTH} characters in production; weak: {', '.join(weak) or 'no tokens set'}"
            )
        return self
