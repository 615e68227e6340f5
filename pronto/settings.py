"""Settings every service shares; each service extends them in its own ``settings.py``."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class CommonSettings(BaseSettings):
    """Read from ``PRONTO_*`` environment variables, validated once at start."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    environment: Literal["development", "production"] = Field(
        "development", validation_alias=_env("PRONTO_ENVIRONMENT")
    )
    bootstrap_servers: str = Field("127.0.0.1:9092", validation_alias=_env("PRONTO_BOOTSTRAP_SERVERS"))
    # Idempotent producing needs InitProducerId, which the embedded broker (Tansu 0.6) cannot answer.
    kafka_idempotent: bool = Field(True, validation_alias=_env("PRONTO_KAFKA_IDEMPOTENT"))
    # Where the event source attribute says events come from (CloudEvents "source").
    instance: str = Field("local", validation_alias=_env("PRONTO_INSTANCE"))
    log_level: str = Field("INFO", validation_alias=_env("PRONTO_LOG_LEVEL"))
