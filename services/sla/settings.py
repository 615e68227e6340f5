"""SLA's configuration: ``PRONTO_SLA_*`` environment variables, validated at start."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from pronto.auth import token_problem
from pronto.calendar import (
    FIRST_DAY,
    HORIZON,
    LAST_DAY,
    OPEN_AT_LEAST_ONCE_IN,
    BusinessCalendar,
    Period,
    SpecialDay,
    merged,
    weekly_hours,
)
from pronto.channels import NAMES
from pronto.errors import NeverOpen
from pronto.settings import CommonSettings
from pronto.time_zones import TimeZoneName
from services.sla.domain.policy import (
    DEFAULT_RESOLUTION,
    DEFAULT_RESPONSE,
    PAUSE_STATES,
    REOPEN_WITHIN,
    Metric,
    Policy,
    Target,
)

# The longest target a policy may set: a year. Longer ones are typing errors (1e308 minutes does not
# even fit a timedelta), and business time is searched only a few years ahead (``HORIZON``).
MAX_TARGET_MINUTES = 366 * 24 * 60


# How a target is switched off: null where the target would be (README, SLA).
SWITCH_OFF = "write null instead of the target to switch it off"


def _positive(minutes: float | None) -> float | None:
    if minutes is not None and minutes <= 0:
        raise ValueError(f"minutes must be more than 0; {SWITCH_OFF}")
    return minutes


class TargetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    minutes: float = Field(le=MAX_TARGET_MINUTES, allow_inf_nan=False)
    business: bool = True

    _more_than_zero = field_validator("minutes")(_positive)

    def target(self) -> Target:
        return Target(timedelta(minutes=self.minutes), self.business)


TIERS = ("standard", "silver", "gold", "vip")


class PriorityTargetConfig(BaseModel):
    """A customer tier's own target, e.g. VIP e-mails answered within 10 minutes; ``minutes`` null
    switches the metric off for the tier (required: an entry without it is a mistake, not "off")."""

    model_config = ConfigDict(extra="forbid")

    channel: str
    tier: Literal["standard", "silver", "gold", "vip"]
    metric: Metric
    minutes: float | None = Field(le=MAX_TARGET_MINUTES, allow_inf_nan=False)
    business: bool = True

    _more_than_zero = field_validator("minutes")(_positive)

    def target(self) -> Target | None:
        return None if self.minutes is None else Target(timedelta(minutes=self.minutes), self.business)


def _targets_or_null(value: Any) -> Any:
    """Each channel's target is an object or null (no target): a number, a string, false or an empty
    object are mistakes, refused by name (the value is not echoed)."""
    if not isinstance(value, dict):
        return value
    for channel, target in value.items():
        if target is not None and not (isinstance(target, dict) and target):
            raise ValueError(
                f'{channel}: a target is an object like {{"minutes": 30, "business": true}}, '
                f"or null for no target, not {type(target).__name__ if target != {} else 'an empty object'}"
            )
    return value


# Opening periods a special day may list: a split day has two or three; 24 is plenty.
MAX_DAY_PERIODS = 24


class SpecialDayConfig(BaseModel):
    """One date's exception (``BusinessCalendar.hours_on`` says how it combines with the rest):
    ``{"date": "2026-12-24", "hours": ["09:00-13:00"]}`` a half day; ``"hours": []`` closed;
    ``"holiday": false`` a public holiday worked with the weekday's hours, ``true`` a holiday of the
    shop's own; ``"closed": ["15:00-17:00"]`` part of the day closed."""

    model_config = ConfigDict(extra="forbid")

    date: dt.date
    hours: list[str] | None = Field(default=None, max_length=MAX_DAY_PERIODS)
    holiday: bool | None = None
    closed: list[str] = Field(default_factory=list, max_length=MAX_DAY_PERIODS)

    @model_validator(mode="after")
    def _valid(self) -> Self:
        if not FIRST_DAY <= self.date <= LAST_DAY:
            raise ValueError(f"{self.date} is outside {FIRST_DAY} to {LAST_DAY}")
        self.special_day()
        return self

    def special_day(self) -> SpecialDay:
        hours = None if self.hours is None else tuple(Period.parse(p) for p in self.hours)
        try:
            return SpecialDay(hours, self.holiday, tuple(Period.parse(p) for p in self.closed))
        except ValueError as exc:
            raise ValueError(f"{self.date}: {exc}") from exc


def _default_pauses() -> dict[Literal["pending", "on_hold"], list[Metric]]:
    """Written out, so that reading a policy back shows what is in force (``DEFAULT_PAUSES``)."""
    return {"pending": [Metric.RESOLUTION], "on_hold": [Metric.RESOLUTION]}


class PolicyConfig(BaseModel):
    """One shop's calendar and targets; targets not given keep the defaults (README, SLA)."""

    model_config = ConfigDict(extra="forbid")

    timezone: TimeZoneName = "UTC"
    # Weekday ("mon".."sun") -> periods like "09:00-13:00"; no hours at all: open around the clock
    # (still closed on public holidays when a country is given, and on closures).
    hours: dict[str, list[str]] = Field(default_factory=dict, max_length=7)
    # ISO country code for public holidays (the ``holidays`` package), e.g. "IT"; subdivision optional.
    country: str | None = None
    subdivision: str | None = None
    # Each search for a deadline scans them for every day it crosses: a few hundred at most.
    closures: list[tuple[date, date]] = Field(default_factory=list, max_length=400)
    warn_fraction: float = Field(default=0.8, gt=0, lt=1)
    # Channel -> its target; null: no target (no clock runs); a channel left out keeps its default.
    response: dict[str, TargetConfig | None] = Field(default_factory=dict, max_length=len(NAMES))
    resolution: dict[str, TargetConfig | None] = Field(default_factory=dict, max_length=len(NAMES))
    by_tier: list[PriorityTargetConfig] = Field(default_factory=list, max_length=3 * len(NAMES) * len(TIERS))
    pause_when_awaiting_customer: bool = True
    # Pause state ("pending", "on_hold") -> the metrics whose clocks stand still in it; a state left
    # out keeps its default (resolution only), [] pauses nothing.
    pause_states: dict[Literal["pending", "on_hold"], list[Metric]] = Field(default_factory=_default_pauses)
    # How long a resolved conversation counts as paused: the customer writing within it reopens it
    # and its resolution clock counts on; 0: a message after a resolution starts new clocks.
    reopen_within_hours: float = Field(
        default=REOPEN_WITHIN.total_seconds() / 3600, ge=0, le=24 * 366, allow_inf_nan=False
    )
    # Dates with hours of their own: half days, Sunday openings, holidays worked or kept, parts of
    # days closed. One entry per date; a year's worth of every day fits.
    special_days: list[SpecialDayConfig] = Field(default_factory=list, max_length=1000)

    _null_or_target = field_validator("response", "resolution", mode="before")(_targets_or_null)

    @field_validator("special_days")
    @classmethod
    def _one_entry_per_date(cls, value: list[SpecialDayConfig]) -> list[SpecialDayConfig]:
        seen: set[dt.date] = set()
        for day in value:
            if day.date in seen:
                raise ValueError(f"{day.date} is listed twice; give each date one entry")
            seen.add(day.date)
        return value

    @field_validator("pause_states")
    @classmethod
    def _each_metric_once(
        cls, value: dict[Literal["pending", "on_hold"], list[Metric]]
    ) -> dict[Literal["pending", "on_hold"], list[Metric]]:
        for state, metrics in value.items():
            if len(set(metrics)) != len(metrics):
                raise ValueError(f"{state} lists a metric twice; give each once")
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
        self._reachable(policy)
        return self

    def _reachable(self, policy: Policy) -> None:
        """Refuse a calendar (hours, holidays and closures together) closed for a year from now or
        from a closure's first day, and business targets it cannot reach within ``HORIZON``: the
        worker would fail on every clock of the shop."""
        calendar = policy.calendar
        now = datetime.now(UTC)
        firsts = [first for first, _ in merged(self.closures)] + [day.date for day in self.special_days]
        starts = [now] + [
            datetime.combine(first, time(0), calendar.zone) for first in sorted(firsts) if first > now.date()
        ]
        closed = calendar.never_open_from(starts)
        if closed is not None:
            raise ValueError(
                f"the calendar (hours, country, closures) is never open within "
                f"{OPEN_AT_LEAST_ONCE_IN.days} days of {closed.date()}"
            )
        # Every target the worker will count, defaults included: a policy that sets only hours
        # still gets the default resolution targets (16 business hours), which a calendar open
        # one minute a week cannot reach (found by the #26 trial: every clock was dead-lettered).
        named = [
            *(((f"response for {c}", t) for c, t in policy.response.items())),
            *(((f"resolution for {c}", t) for c, t in policy.resolution.items())),
            *(((f"{m.value} for {c} at tier {TIERS[p]}", t) for (c, p, m), t in policy.by_priority.items())),
        ]
        business = [(name, t.duration) for name, t in named if t is not None and t.business]
        if not business:
            return
        name, longest = max(business, key=lambda item: item[1])
        try:
            calendar.add(now, longest)
        except NeverOpen as exc:
            raise ValueError(
                f"the {name} target, {longest.total_seconds() / 60:g} business minutes, takes longer "
                f"than the {HORIZON.days} days the calendar's opening hours are searched"
            ) from exc

    def policy(self) -> Policy:
        hours = weekly_hours(self.hours)
        # No hours: open around the clock, yet closed on the country's holidays and the closures.
        around_the_clock = {day: (Period(0, 24 * 60),) for day in range(7)}
        calendar = BusinessCalendar(
            self.timezone,
            hours or around_the_clock,
            self.country,
            self.subdivision,
            tuple(self.closures),
            {day.date: day.special_day() for day in self.special_days},
        )
        try:
            calendar.is_closed_day(date.today())  # an unknown country fails here, not later
        except NotImplementedError as exc:
            raise ValueError(f"no public holidays known for country {self.country!r}: {exc}") from exc
        return Policy(
            calendar=calendar,
            response=_with_defaults(DEFAULT_RESPONSE, self.response),
            resolution=_with_defaults(DEFAULT_RESOLUTION, self.resolution),
            by_priority={(t.channel, TIERS.index(t.tier), t.metric): t.target() for t in self.by_tier},
            warn_fraction=self.warn_fraction,
            pause_when_awaiting_customer=self.pause_when_awaiting_customer,
            reopen_within=timedelta(hours=self.reopen_within_hours),
            pause_states=tuple(
                (state, frozenset(self.pause_states.get(state, [Metric.RESOLUTION])))  # type: ignore[call-overload]
                for state in PAUSE_STATES
            ),
        )


def _with_defaults(
    defaults: dict[str, Target], given: dict[str, TargetConfig | None]
) -> dict[str, Target | None]:
    """Every channel's default, replaced by the target given for it, or switched off by its null."""
    return {**defaults, **{c: None if t is None else t.target() for c, t in given.items()}}


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
    # SLA's deadlines are minutes away: it waits longer than routing for its records, and so takes
    # them in fewer, larger batches, each one journal entry (README, Stream core: what a record costs).
    sla_fetch_wait_ms: int = Field(default=100, ge=1, le=1500)
    sla_batch_within_ms: float = Field(default=100.0, gt=0, le=1_000)
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
