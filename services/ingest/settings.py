"""Ingest's configuration: ``PRONTO_*`` environment variables, validated at start."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from pronto.auth import token_problem
from pronto.settings import CommonSettings
from services.ingest.channels import twiml

# The demo's tenant and token: refused in production.
DEVELOPMENT_TOKENS = {"demo-shop": SecretStr("demo-token")}


class ChannelSecrets(BaseModel):
    """One shop's credentials for verifying its channels' webhooks; a channel without them is off."""

    model_config = ConfigDict(extra="forbid")

    # The shop's own back end signs what it relays (web chat, contact form, callback requests):
    # X-Pronto-Signature: sha256=<hex HMAC-SHA256(key, body)>.
    shop_key: SecretStr | None = None
    # Meta app secret (X-Hub-Signature-256) and the verify token of the GET handshake.
    meta_app_secret: SecretStr | None = None
    meta_verify_token: SecretStr | None = None
    # Telegram: the secret_token given to setWebhook, echoed in X-Telegram-Bot-Api-Secret-Token.
    telegram_secret_token: SecretStr | None = None
    # Viber: the bot's auth token, which signs X-Viber-Content-Signature.
    viber_auth_token: SecretStr | None = None
    # X: the app's consumer secret, for the CRC challenge and x-twitter-webhooks-signature.
    x_consumer_secret: SecretStr | None = None
    # Inbound e-mail: a token the mail provider sends (Authorization: Bearer, or basic auth password),
    # or Mailgun's webhook signing key.
    email_token: SecretStr | None = None
    mailgun_signing_key: SecretStr | None = None
    # Phone (Twilio-compatible): the auth token signing X-Twilio-Signature.
    twilio_auth_token: SecretStr | None = None

    @model_validator(mode="after")
    def _no_short_secrets(self) -> Self:
        """An empty secret (an unset variable in a template) would let anyone sign."""
        short = [name for name, value in self if value is not None and len(value.get_secret_value()) < 8]
        if short:
            raise ValueError(f"channel secrets must be at least 8 characters: {', '.join(short)}")
        return self


class IngestSettings(CommonSettings):
    ingest_grpc_host: str = "127.0.0.1"
    ingest_grpc_port: int = Field(default=50051, ge=0, le=65535)
    ingest_http_host: str = "127.0.0.1"
    ingest_http_port: int = Field(default=8080, ge=0, le=65535)
    # Tenant -> bearer token, as JSON: {"shop-a": "…"}. A token publishes for its own tenant only.
    ingest_tokens: dict[str, SecretStr] = Field(default_factory=lambda: dict(DEVELOPMENT_TOKENS))
    # How long a caller waits for the broker's acknowledgement before getting UNAVAILABLE.
    ingest_ack_timeout_s: float = Field(default=5.0, gt=0)
    # How long a transfer request waits for routing's answer before saying it is still undecided.
    ingest_transfer_timeout_s: float = Field(default=10.0, gt=0)
    ingest_retry_after_s: float = Field(default=1.0, gt=0)
    # How many recently accepted event ids ingest remembers, to answer retries without a second write.
    ingest_dedupe_capacity: int = Field(default=200_000, ge=0)
    # Unacknowledged request batches one PublishStream may have in flight before ingest reads more.
    ingest_stream_window: int = Field(default=64, ge=1)
    ingest_linger_ms: int = Field(default=2, ge=0)
    # Tenant -> channel secrets, as JSON: {"shop-a": {"telegram_secret_token": "…", …}}.
    ingest_channels: dict[str, ChannelSecrets] = Field(default_factory=dict)
    # Webhook bodies larger than this are refused with 413 before they are parsed.
    ingest_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Languages detected when a channel does not say; ISO 639-1 codes, the shop's languages first.
    ingest_languages: list[str] = Field(
        default_factory=lambda: ["it", "pl", "en", "es", "de", "fr", "pt", "nl"]
    )
    # The language the phone line's menu speaks (BCP 47); empty: the first of ingest_languages.
    ingest_phone_language: str = ""
    # Tenant -> its own line's language, for shops that speak another (JSON: {"shop-pl": "pl"}).
    ingest_phone_languages: dict[str, str] = Field(default_factory=dict)
    # The public base URL the platforms call (Twilio signs the full URL), when behind a proxy.
    ingest_public_url: str = ""

    @model_validator(mode="after")
    def _spoken_phone_languages(self) -> Self:
        """A shop's line in a language Pronto has no words for would greet its callers in English."""
        unknown = {t: lang for t, lang in self.ingest_phone_languages.items() if not twiml.speaks(lang)}
        if unknown:
            raise ValueError(
                f"PRONTO_INGEST_PHONE_LANGUAGES: no phone menu in {unknown}; "
                f"the line speaks {', '.join(sorted(twiml.PHRASES))}"
            )
        return self

    @model_validator(mode="after")
    def _usable_tokens(self) -> Self:
        problem = token_problem(self.ingest_tokens, "PRONTO_INGEST_TOKENS", self.environment == "production")
        if problem:
            raise ValueError(problem)
        return self
