"""Routing's configuration: ``PRONTO_ROUTING_*`` environment variables, validated at start."""

from __future__ import annotations

from datetime import timedelta
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pronto.channels import NAMES
from pronto.settings import CommonSettings
from services.routing.domain.decision import Fairness, QueueOrder, Rules
from services.routing.domain.tenant import Ladder
from services.routing.shop import Policy

CHANNELS = frozenset(NAMES)


class ShopRules(BaseModel):
    """How one shop chooses among eligible operators (README, Routing: policies and switches)."""

    model_config = ConfigDict(extra="forbid")

    # round_robin, most_spare, lowest_load or longest_idle; ties go to the rules after it, then the id.
    fairness: Fairness = Fairness.LOWEST_LOAD
    # Whether the operator who last served the customer goes first when eligible.
    sticky: bool = True
    # Seconds a returning customer's conversation is offered only to that operator (while online).
    sticky_hold_s: float = Field(default=0.0, ge=0, le=3600)
    # weighted, priority_then_age or sla_time_left: which waiting conversation is served first.
    queue_order: QueueOrder = QueueOrder.WEIGHTED
    # Units of work an operator may hold across channels (null: no limit), and per operator id.
    operator_cap: float | None = Field(default=None, ge=0)
    operator_caps: dict[str, float | None] = {}
    # Channel -> units one of its conversations costs (1 unless listed), e.g. {"phone": 3}.
    channel_weights: dict[str, float] = {}
    # Team -> open conversations its members may hold together (a team not listed: no limit).
    team_limits: dict[str, int | None] = {}
    # Channels that still route to an away operator; channels taken back when one goes away.
    away_channels: frozenset[str] = frozenset({"email", "contact_form"})
    away_takes_back: frozenset[str] = frozenset({"web_chat", "phone"})

    @model_validator(mode="after")
    def _hold_needs_sticky(self) -> Self:
        if self.sticky_hold_s and not self.sticky:
            raise ValueError("sticky_hold_s: a hold for the previous operator needs sticky: true")
        return self

    @model_validator(mode="after")
    def _limits(self) -> Self:
        for name, values in (
            ("operator_caps", self.operator_caps),
            ("channel_weights", self.channel_weights),
            ("team_limits", self.team_limits),
        ):
            negative = sorted(k for k, v in values.items() if v is not None and v < 0)
            if negative:
                raise ValueError(f"{name}: must not be negative, got {negative}")
        for name, channels in (
            ("channel_weights", set(self.channel_weights)),
            ("away_channels", self.away_channels),
            ("away_takes_back", self.away_takes_back),
        ):
            if unknown := channels - CHANNELS:
                known = sorted(CHANNELS)
                raise ValueError(f"{name}: unknown channels {sorted(unknown)}; known: {known}")
        return self

    def rules(self) -> Rules:
        return Rules(
            self.fairness,
            self.sticky,
            timedelta(seconds=self.sticky_hold_s),
            self.queue_order,
            self.operator_cap,
            dict(self.operator_caps),
            dict(self.channel_weights),
            dict(self.team_limits),
            frozenset(self.away_channels),
            frozenset(self.away_takes_back),
        )


class RoutingSettings(CommonSettings):
    # /metrics, /healthz, /readyz
    routing_http_host: str = "127.0.0.1"
    routing_http_port: int = Field(default=8081, ge=0, le=65535)
    # How often time passes for the shops' state (widening, silent operators, queue estimates).
    routing_tick_s: float = Field(default=1.0, gt=0, le=60)
    # Waits after which a queued conversation's match is widened: drop the topic, accept the
    # fallback language (English), then any team.
    routing_widen_after_s: tuple[float, float, float] = (120.0, 300.0, 600.0)
    # Per channel: how long an assigned operator has for a first reply before the conversation
    # goes to the next eligible operator. A channel not listed never times out.
    routing_reply_within_s: dict[str, float] = {
        "web_chat": 120.0,
        "phone": 300.0,
        "whatsapp": 600.0,
        "telegram": 600.0,
        "viber": 600.0,
        "facebook": 900.0,
        "instagram": 900.0,
        "x": 900.0,
        "email": 3600.0,
        "contact_form": 3600.0,
    }
    # Per channel: the handling time assumed for estimated waits until resolutions measure it.
    routing_handling_time_s: dict[str, float] = {"web_chat": 300.0, "phone": 300.0, "email": 900.0}
    routing_position_every_s: float = Field(default=10.0, gt=0)
    # Per channel (JSON), the team that serves it first; other teams only after the last widening.
    routing_channel_teams: dict[str, str] = {}
    # How shops choose among eligible operators (JSON): every shop's, and tenant -> its own.
    routing_default_shop: ShopRules = Field(default_factory=ShopRules)
    routing_shops: dict[str, ShopRules] = Field(default_factory=dict)
    # Routing is on the path from a customer's message to an operator: it waits little for records.
    routing_fetch_wait_ms: int = Field(default=20, ge=1, le=1500)
    routing_batch_within_ms: float = Field(default=10.0, gt=0, le=1_000)
    routing_linger_ms: int = Field(default=5, ge=0, le=1000)
    routing_session_timeout_s: float = Field(default=3.0, ge=1.0, le=300.0)

    @model_validator(mode="after")
    def _known_channels(self) -> Self:
        for name in ("routing_reply_within_s", "routing_handling_time_s", "routing_channel_teams"):
            unknown = set(getattr(self, name)) - CHANNELS
            if unknown:
                raise ValueError(f"{name}: unknown channels {sorted(unknown)}; known: {sorted(CHANNELS)}")
        if list(self.routing_widen_after_s) != sorted(self.routing_widen_after_s):
            raise ValueError("routing_widen_after_s: each step must come after the one before")
        return self

    def reads_deadlines(self) -> bool:
        """Whether any shop orders its queue by SLA deadlines: only then does routing read SLA's events."""
        shops = [self.routing_default_shop, *self.routing_shops.values()]
        return any(shop.queue_order is QueueOrder.SLA_TIME_LEFT for shop in shops)

    def policy(self) -> Policy:
        return Policy(
            ladder=Ladder(tuple(timedelta(seconds=s) for s in self.routing_widen_after_s)),
            reply_within={c: timedelta(seconds=s) for c, s in self.routing_reply_within_s.items()},
            handling_time={c: timedelta(seconds=s) for c, s in self.routing_handling_time_s.items()},
            position_every=timedelta(seconds=self.routing_position_every_s),
            channel_teams=dict(self.routing_channel_teams),
            rules=self.routing_default_shop.rules(),
            shops={tenant: shop.rules() for tenant, shop in self.routing_shops.items()},
        )
