"""Notify's configuration: ``PRONTO_NOTIFY_*`` environment variables, validated at start.

Each shop says where its people are reached: the customers through one
outbound webhook per channel (``"*"`` for every channel without its own), each
operator and the supervisors' team through one contact (an e-mail address, a
signed webhook or a Slack-compatible incoming webhook), when staff may be told
things (their hours; outside them notifications wait for a digest), its rate
limit, its queue threshold and its own wording.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from pronto.calendar import BusinessCalendar, weekly_hours
from pronto.channels import NAMES
from pronto.settings import CommonSettings
from pronto.time_zones import TimeZoneName
from services.notify.delivery.platforms import meta, telegram, viber, x
from services.notify.domain.decide import NotifyPolicy
from services.notify.domain.gate import Limit
from services.notify.domain.templates import STAFF_KINDS, Kind, Templates

MIN_SECRET_LENGTH = 16


class WebhookTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://")
    # Signs every request (Pronto-Signature); the receiver checks it with the same secret.
    secret: SecretStr = Field(min_length=MIN_SECRET_LENGTH)


class Contact(BaseModel):
    """How one person or team is reached: exactly one of e-mail, webhook, Slack."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    webhook: WebhookTarget | None = None
    # A Slack-compatible incoming webhook URL (it is itself the secret).
    slack: SecretStr | None = None
    # Weekday ("mon".."sun") -> periods like "08:00-20:00" when they may be told something, in the
    # shop's time zone; a weekday not listed is a day off. Empty: the shop's staff hours.
    hours: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        ways = [w for w in (self.email, self.webhook, self.slack) if w is not None]
        if len(ways) != 1:
            raise ValueError("a contact needs exactly one of email, webhook or slack")
        if self.slack is not None and not self.slack.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("slack must be the incoming webhook's http(s) URL")
        weekly_hours(self.hours)
        return self


class TelegramOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bot_token: SecretStr
    api_base: str = Field(default=telegram.DEFAULT_API, pattern=r"^https?://")


class TemplateConfig(BaseModel):
    """An approved WhatsApp template for answers outside the 24-hour window (README, Replies)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    # What fills {{1}}, {{2}}...: "text" (the message) or "operator" (who wrote it).
    parameters: list[Literal["text", "operator"]] = Field(default_factory=lambda: ["text"])  # type: ignore[arg-type]

    def template(self) -> meta.Template:
        return meta.Template(self.name, tuple(self.languages), tuple(self.parameters))


class WhatsAppOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_number_id: str = Field(min_length=1)
    access_token: SecretStr
    template: TemplateConfig | None = None
    api_base: str = Field(default=meta.DEFAULT_API, pattern=r"^https?://")


class SendApiOut(BaseModel):
    """Messenger (the page's access token) or Instagram messaging (its access token)."""

    model_config = ConfigDict(extra="forbid")

    access_token: SecretStr
    # Answer up to 7 days after the customer's last message with the HUMAN_AGENT tag (the shop
    # must have the permission from Meta); otherwise nothing goes out after 24 hours.
    human_agent: bool = False
    api_base: str = Field(default=meta.DEFAULT_API, pattern=r"^https?://")


class ViberOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auth_token: SecretStr
    sender_name: str = Field(min_length=1, max_length=28)
    api_base: str = Field(default=viber.DEFAULT_API, pattern=r"^https?://")


class XOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # An OAuth 2.0 user-context token of the shop's account with dm.write.
    access_token: SecretStr
    api_base: str = Field(default=x.DEFAULT_API, pattern=r"^https?://")


class EmailOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The shop's support address answers come from, e.g. "Negozio <aiuto@negozio.example>".
    sender: str = Field(pattern=r"@")


class WebChatOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Signs the widgets' event-stream tokens: hex HMAC-SHA256 of "tenant:visitor".
    secret: SecretStr = Field(min_length=MIN_SECRET_LENGTH)
    # A visitor who left an e-mail address and has been away this long is answered by e-mail.
    email_after_s: float = Field(default=600.0, gt=0)
    # The shop's pages (origins, e.g. "https://shop.example") whose widgets may open the stream
    # from the browser (CORS); empty: only through the shop's own proxy, same origin.
    allowed_origins: list[str] = Field(default_factory=list)


class Outbound(BaseModel):
    """Each channel's own API and the shop's credentials for it; a channel left out is answered
    through the shop's customer webhook (``customer_webhooks``)."""

    model_config = ConfigDict(extra="forbid")

    telegram: TelegramOut | None = None
    whatsapp: WhatsAppOut | None = None
    facebook: SendApiOut | None = None
    instagram: SendApiOut | None = None
    viber: ViberOut | None = None
    x: XOut | None = None
    email: EmailOut | None = None
    web_chat: WebChatOut | None = None


class ShopConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The shop's name as customers know it: replies are signed "— Giulia, customer care · <name>".
    name: str = ""
    timezone: TimeZoneName = "UTC"
    # Channel name or "*" -> where customer-facing messages for that channel are posted, when the
    # channel has no ``outbound`` credentials.
    customer_webhooks: dict[str, WebhookTarget] = Field(default_factory=dict)
    outbound: Outbound = Field(default_factory=Outbound)
    operators: dict[str, Contact] = Field(default_factory=dict)
    # Operators without their own contact.
    operator_default: Contact | None = None
    supervisors: Contact | None = None
    # When staff may be told things unless their contact says otherwise; empty: any time.
    staff_hours: dict[str, list[str]] = Field(default_factory=dict)
    # What may wait: per staff recipient at most ``limit_count`` messages of these kinds per window,
    # and none outside their hours; the rest go out as a digest. New assignments and SLA warnings
    # are an operator's work and go out at once unless listed here.
    limited_kinds: set[str] = Field(default_factory=lambda: {"breach", "predicted_breach", "queue_over"})
    limit_count: int = Field(default=5, ge=1)
    limit_window_s: float = Field(default=600.0, gt=0)
    queue_threshold: int = Field(default=20, ge=1)
    # A waiting customer hears their place in the queue again at most this often (and only when it
    # moved by a tenth, or the wait by a fifth).
    position_every_s: float = Field(default=120.0, gt=0)
    # Kind ("acknowledged", "assigned", ...) -> language -> template (README, Notify).
    templates: dict[Kind, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _valid(self) -> Self:
        unknown = set(self.customer_webhooks) - {*NAMES, "*"}
        if unknown:
            raise ValueError(
                f"customer_webhooks: unknown channels {sorted(unknown)}; known: *, {', '.join(NAMES)}"
            )
        weekly_hours(self.staff_hours)
        staff_kinds = {k.value for k in STAFF_KINDS}
        if self.limited_kinds - staff_kinds:
            raise ValueError(
                f"limited_kinds: {sorted(self.limited_kinds - staff_kinds)} are not staff notifications; "
                f"choose among {', '.join(sorted(staff_kinds))}"
            )
        problem = Templates(self.templates).problem()
        if problem:
            raise ValueError(f"templates: {problem}")
        return self

    def policy(self) -> NotifyPolicy:
        unreachable = frozenset() if self.customer_webhook("phone") else frozenset({"phone"})
        return NotifyPolicy(
            ZoneInfo(self.timezone),
            Templates(self.templates),
            self.queue_threshold,
            self.name,
            unreachable,
            timedelta(seconds=self.position_every_s),
        )

    def limit(self) -> Limit:
        return Limit(self.limit_count, timedelta(seconds=self.limit_window_s))

    def calendar(self, hours: dict[str, list[str]]) -> BusinessCalendar | None:
        """When someone with these hours (else the staff hours) may be told things; None: always."""
        hours = hours or self.staff_hours
        if not hours:
            return None
        return BusinessCalendar(self.timezone, weekly_hours(hours))

    def customer_webhook(self, channel: str) -> WebhookTarget | None:
        return self.customer_webhooks.get(channel) or self.customer_webhooks.get("*")

    def operator(self, operator_id: str) -> Contact | None:
        return self.operators.get(operator_id) or self.operator_default


class NotifySettings(CommonSettings):
    notify_http_host: str = "127.0.0.1"
    notify_http_port: int = Field(default=8083, ge=0, le=65535)
    # Tenant -> how its people are reached; a tenant not listed gets ``notify_default_shop``.
    notify_shops: dict[str, ShopConfig] = Field(default_factory=dict)
    notify_default_shop: ShopConfig = Field(default_factory=ShopConfig)
    notify_smtp_host: str = "127.0.0.1"
    notify_smtp_port: int = Field(default=25, ge=1, le=65535)
    notify_smtp_from: str = "Pronto <pronto@localhost>"
    notify_smtp_username: str | None = None
    notify_smtp_password: SecretStr | None = None
    notify_smtp_starttls: bool = False
    # Delivery: attempts per notification (the first included), then the dead-letter topic.
    notify_attempts: int = Field(default=5, ge=1, le=20)
    notify_backoff_initial_s: float = Field(default=0.5, gt=0)
    notify_backoff_max_s: float = Field(default=30.0, gt=0)
    notify_timeout_s: float = Field(default=10.0, gt=0)
    # The longest wait a platform's Retry-After (or its own hint, e.g. X's rate-limit reset) is
    # honoured for; beyond it the delivery waits this long and tries again.
    notify_retry_after_max_s: float = Field(default=900.0, gt=0)
    # Deliveries in flight at once to customers, and apart from them to operators and supervisors.
    notify_concurrency: int = Field(default=32, ge=1, le=1024)
    notify_staff_concurrency: int = Field(default=16, ge=1, le=1024)
    # What this worker delivered, written the moment each delivery is answered: after a crash it
    # sends nothing again that it already sent (README, Notify).
    notify_journal: Path = Path("var/notify-delivered.journal")
    # As for SLA: fewer, larger batches; a notification up to ~0.3 s later (the fold and the deliverer
    # each wait).
    notify_fetch_wait_ms: int = Field(default=100, ge=1, le=1500)
    notify_batch_within_ms: float = Field(default=100.0, gt=0, le=1_000)
    notify_linger_ms: int = Field(default=5, ge=0, le=1000)
    notify_session_timeout_s: float = Field(default=3.0, ge=1.0, le=300.0)

    def shop(self, tenant: str) -> ShopConfig:
        return self.notify_shops.get(tenant, self.notify_default_shop)
