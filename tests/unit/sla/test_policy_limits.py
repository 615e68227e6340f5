"""Policies the worker could not use are refused when configured or set (issue #26, defect 4)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from pronto.calendar import merged
from pronto.channels import NAMES
from services.sla.settings import MAX_TARGET_MINUTES, PolicyConfig


def refusal(policy: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as refused:
        PolicyConfig.model_validate(policy)
    return str(refused.value)


@pytest.mark.parametrize("minutes", [float("nan"), float("inf"), 1e308, MAX_TARGET_MINUTES + 1, 0, -5])
def test_targets_are_finite_positive_and_at_most_a_year(minutes: float) -> None:
    assert "response.email.minutes" in refusal({"response": {"email": {"minutes": minutes}}})


def test_a_year_long_target_is_accepted_around_the_clock() -> None:
    PolicyConfig.model_validate({"response": {"email": {"minutes": MAX_TARGET_MINUTES}}})


def test_closures_must_leave_the_shop_open_once_a_year() -> None:
    assert "never open" in refusal({"closures": [["0001-01-01", "9999-12-31"]]})
    # Back-to-back closures are one: two half years in a row are a year closed.
    halves = [["2030-01-01", "2030-06-30"], ["2030-07-01", "2030-12-31"]]
    assert "never open for 365 days" in refusal({"closures": halves})
    assert "outside" in refusal({"closures": [["9500-01-01", "9500-01-02"]]})
    PolicyConfig.model_validate({"closures": [["2030-01-01", "2030-12-30"]]})  # open on 31 December


def test_hours_with_no_open_period_are_refused() -> None:
    assert "never open" in refusal({"hours": {"mon": [], "tue": []}})


def test_a_calendar_closed_for_a_year_by_many_short_closures_is_refused() -> None:
    sunday = date(2031, 1, 5)
    closures = [[str(sunday + timedelta(weeks=n))] * 2 for n in range(106)]
    message = refusal({"hours": {"sun": ["00:00-24:00"]}, "closures": closures})
    assert "the calendar (hours, country, closures) is never open within 365 days of 2031-01-05" in message


def test_a_business_target_the_hours_cannot_reach_is_refused() -> None:
    hour_a_week = {"hours": {"sun": ["10:00-11:00"]}}
    assert "business minutes" in refusal(hour_a_week | {"response": {"email": {"minutes": 500_000}}})
    PolicyConfig.model_validate(
        hour_a_week | {"response": {"email": {"minutes": 500_000, "business": False}}}
    )


def test_the_default_targets_count_too_a_minute_a_week_cannot_reach_them() -> None:
    """The #26 trial's policy: only hours given, one minute on Mondays. The default resolution
    targets (16 business hours) would take 18 years of Mondays: every clock failed in the worker."""
    minute_a_week = {"timezone": "Europe/Rome", "country": "IT", "hours": {"mon": ["09:00-09:01"]}}
    message = refusal(minute_a_week)
    assert "resolution for" in message
    assert "960 business minutes" in message
    web_chat = {"web_chat": {"minutes": 0.1667, "business": False}}
    assert "960 business minutes" in refusal(minute_a_week | {"response": web_chat})
    # The same hours with every business target switched off or in calendar time are usable.
    calendar_time = {c: {"minutes": 60, "business": False} for c in ("email", "contact_form", "phone")}
    off = dict.fromkeys(NAMES)
    PolicyConfig.model_validate(minute_a_week | {"response": calendar_time, "resolution": off})


def test_merged_joins_overlapping_and_adjacent_closures_only() -> None:
    day = date(2030, 1, 1)
    ranges = [
        (day, day + timedelta(2)),
        (day + timedelta(3), day + timedelta(4)),
        (day + timedelta(6), day + timedelta(6)),
    ]
    assert merged(ranges) == [(day, day + timedelta(4)), (day + timedelta(6), day + timedelta(6))]
