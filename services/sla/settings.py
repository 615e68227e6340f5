"""SLA's configuration: ``PRONTO_SLA_*`` environment variables, validated at start."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from pronto.auth import token_problem
from pronto.channels import NAMES
from pronto.settings import CommonSettings
from services.sla.domain.calendar import (
    FIRST_DAY,
    HORIZON,
    LAST_DAY,
    OPEN_AT_LEAST_ONCE_IN,
    BusinessCalendar,
    NeverOpen,
    Period,
    merged,
    weekly_hours,
    zone_named,
)
from services.sla.domain.policy import DEFAULT_RESOLUTION, DEFAULT_RESPONSE, Metric, Policy, Target

# The longest target a policy may set: a year. Longer ones are typing errors (1e308 minutes does not
# even fit a timedelta), and business time is searched only a few years ahead (``HORIZON``).
MAX_TARGET_MINUTES = 366 * 24 * 60


class TargetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    minutes: float = Field(gt=0, le=MAX_TARGET_MINUTES, allow_inf_nan=False)
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
    hours: dict[str, list[str]] = Field(default_factory=dict, max_length=7)
    # ISO country code for public holidays (the ``holidays`` package), e.g. "IT"; subdivision optional.
    country: str | None = None
    subdivision: str | None = None
    # Each search for a deadline scans them for every day it crosses: a few hundred at most.
    closures: list[tuple[date, date]] = Field(default_factory=list, max_length=400)
    warn_fraction: float = Field(default=0.8, gt=0, lt=1)
    response: dict[str, TargetConfig] = Field(default_factory=dict, max_length=len(NAMES))
    resolution: dict[str, TargetConfig] = Field(default_factory=dict, max_length=len(NAMES))
    by_tier: list[PriorityTargetConfig] = Field(default_factory=list, max_length=3 * len(NAMES) * len(TIERS))
    pause_when_awaiting_customer: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone_named(value)
        return value

    @field_validator("hours")
    @classmethod
    def _ever_open_in_a_week(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if value and not any(weekly_hours(value).values()):
            raise ValueError(
                "no weekday has opening hours, so the shop is never open (leave hours out to be "
                "open around the clock)"
            )
        return value

    @field_validator("closures")
    @classmethod
    def _open_once_a_year(cls, value: list[tuple[date, date]]) -> list[tuple[date, date]]:
        for first, last in merged(value):
            if last - first >= OPEN_AT_LEAST_ONCE_IN - timedelta(days=1):
                raise ValueError(
                    f"{first} to {last} leaves the shop never open for {(last - first).days + 1} days; "
                    f"it must open at least once within {OPEN_AT_LEAST_ONCE_IN.days} days"
                )
        outside = [day for pair in value for day in pair if not FIRST_DAY <= day <= LAST_DAY]
        if outside:
            raise ValueError(f"{outside[0]} is outside {FIRST_DAY} to {LAST_DAY}")
        return value

    @model_validator(mode="after")
    def _valid(self) -> Self:
        weekly_hours(self.hours)
        channels = {*self.response, *self.resolution, *(t.channel for t in self.by_tier)} - set(NAMES)
        if channels:
            raise ValueError(f"unknown channels {sorted(channels)}; known: {', '.join(NAMES)}")
        policy = self.policy()  # periods, overlaps, country: refused here rather than at the first message
        self._reachable(policy.calendar)
        return self

    def _reachable(self, calendar: BusinessCalendar) -> None:
        """Refuse a calendar (hours, holidays and closures together) closed for a year from now or
        from a closure's first day, and business targets it cannot reach within ``HORIZON``: the
        worker would fail on every clock of the shop."""
        now = datetime.now(UTC)
        starts = [now] + [
            datetime.combine(first, time(0), calendar.zone)
            for first, _ in merged(self.closures)
            if first > now.date()
        ]
        closed = calendar.never_open_from(starts)
        if closed is not None:
            raise ValueError(
                f"the calendar (hours, country, closures) is never open within "
                f"{OPEN_AT_LEAST_ONCE_IN.days} days of {closed.date()}"
            )
        targets = [*self.response.values(), *self.resolution.values(), *self.by_tier]
        longest = max((t.minutes for t in targets if t.business), default=0.0)
        try:
            calendar.add(now, timedelta(minutes=longest))
        except NeverOpen as exc:
            raise ValueError(
                f"minutes: {longest:g} business minutes take longer than the {HORIZON.days} days the "
                f"calendar's opening hours are searched"
            ) from exc

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
