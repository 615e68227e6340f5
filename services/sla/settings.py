"""SLA's configuration: ``PRONTO_SLA_*`` environment variables, validated at start."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from pronto.auth import token_problem
from pronto.channels import NAMES
from pronto.settings import CommonSettings
from services.sla.domain.calendar import BusinessCalendar, Period, weekly_hours, zone_named
from services.sla.domain.policy import DEFAULT_RESOLUTION, DEFAULT_RESPONSE, Metric, Policy, Target


class TargetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    minutes: float = Field(gt=0)
    business: bool = True

    def target(self) -> Target:
        return Target(timedelta(minutes=self.minutes), self.business)


TIERS = ("standard", "silver", "gold", "vip")


class PriorityTargetConfig(TargetConfig):
    """A tighter target for a customer tier, e.g. VIP e-mails answered within 10 minutes."""

    channel: str
    tier: Literal["standard", "silver", "gold", "vip"]
    metric: Metric


class PolicyConfig(BaseModel):
    """One shop's calendar and targets; targets not given keep the defaults (README, SLA)."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = "UTC"
    # Weekday ("mon".."sun") -> periods like "09:00-13:00"; no hours at all: open around the clock
    # (still closed on public holidays when a country is given, and on closures).
    hours: dict[str, list[str]] = Field(default_factory=dict)
    # ISO country code for public holidays (the ``holidays`` package), e.g. "IT"; subdivision optional.
    country: str | None = None
    subdivision: str | None = None
    closures: list[tuple[date, date]] = Field(default_factory=list)
    warn_fraction: float = Field(default=0.8, gt=0, lt=1)
    response: dict[str, TargetConfig] = Field(default_factory=dict)
    resolution: dict[str, TargetConfig] = Field(default_factory=dict)
    by_tier: list[PriorityTargetConfig] = Field(default_factory=list)
    pause_when_awaiting_customer: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone_named(value)
        return value

    @model_validator(mode="after")
    def _valid(self) -> Self:
        weekly_hours(self.hours)
        channels = {*self.response, *self.resolution, *(t.channel for t in self.by_tier)} - set(NAMES)
        if channels:
            raise ValueError(f"unknown channels {sorted(channels)}; known: {', '.join(NAMES)}")
        self.policy()  # periods, overlaps, country: refused here rather than at the first message
        return self

    def policy(self) -> Policy:
        hours = weekly_hours(self.hours)
        # No hours: open around the clock, yet closed on the country's holidays and the closures.
        around_the_clock = {day: (Period(0, 24 * 60),) for day in range(7)}
        calendar = BusinessCalendar(
            self.timezone, hours or around_the_clock, self.country, self.subdivision, tuple(self.closures)
        )
        try:
            calendar.is_closed_day(date.today())  # an unknown country fails here, not later
        except NotImplementedError as exc:
            raise ValueError(f"no public holidays known for country {self.country!r}: {exc}") from exc
        return Policy(
            calendar=calendar,
            response=DEFAULT_RESPONSE | {c: t.target() for c, t in self.response.items()},
            resolution=DEFAULT_RESOLUTION | {c: t.target() for c, t in self.resolution.items()},
            by_priority={(t.channel, TIERS.index(t.tier), t.metric): t.target() for t in self.by_tier},
            warn_fraction=self.warn_fraction,
            pause_when_awaiting_customer=self.pause_when_awaiting_customer,
        )


class SlaSettings(CommonSettings):
    sla_http_host: str = "127.0.0.1"
    sla_http_port: int = Field(default=8082, ge=0, le=65535)
    # How often warnings and breaches due by now are fired.
    sla_tick_s: float = Field(default=1.0, gt=0, le=60)
    # Tenant -> policy; a tenant not listed gets ``sla_default_policy``.
    sla_policies: dict[str, PolicyConfig] = Field(default_factory=dict)
    sla_default_policy: PolicyConfig = Field(default_factory=PolicyConfig)
    # Tenant -> bearer token for the shop's SLA figures (windows) and its admin API (the policy).
    sla_tokens: dict[str, SecretStr] = Field(
        default_factory=lambda: {"demo-shop": SecretStr("demo-sla-token")}
    )
    sla_fetch_wait_ms: int = Field(default=20, ge=1, le=1500)
    sla_linger_ms: int = Field(default=5, ge=0, le=1000)
    sla_session_timeout_s: float = Field(default=3.0, ge=1.0, le=300.0)

    @model_validator(mode="after")
    def _usable_tokens(self) -> Self:
        problem = token_problem(self.sla_tokens, "PRONTO_SLA_TOKENS", self.environment == "production")
        if problem:
            raise ValueError(problem)
        return self

    def policies(self) -> tuple[dict[str, Policy], Policy]:
        return {t: c.policy() for t, c in self.sla_policies.items()}, self.sla_default_policy.policy()
