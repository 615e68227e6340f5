"""SLA configuration: policies as JSON, refused with a message naming what is wrong."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from services.sla.domain.policy import Metric, Target
from services.sla.settings import PolicyConfig, SlaSettings

ITALIAN = {
    "timezone": "Europe/Rome",
    "country": "IT",
    "hours": {"mon": ["09:00-13:00", "14:00-18:00"], "sat": ["10:00-12:00"]},
    "closures": [["2026-12-28", "2026-12-31"]],
    "response": {"email": {"minutes": 20}},
    "by_tier": [
        {"channel": "email", "tier": "vip", "metric": "first_response", "minutes": 5, "business": False}
    ],
}


def test_a_full_policy_becomes_the_domains() -> None:
    policy = PolicyConfig.model_validate(ITALIAN).policy()

    assert policy.calendar.timezone == "Europe/Rome"
    assert policy.calendar.is_closed_day(date(2026, 12, 29))
    assert policy.calendar.is_closed_day(date(2027, 3, 29))  # Easter Monday
    assert policy.target("email", 0, Metric.FIRST_RESPONSE) == Target(timedelta(minutes=20), True)
    assert policy.target("email", 3, Metric.FIRST_RESPONSE) == Target(timedelta(minutes=5), False)
    assert policy.target("web_chat", 0, Metric.FIRST_RESPONSE) == Target(timedelta(minutes=1), False)


def test_no_hours_means_always_open() -> None:
    policy = PolicyConfig().policy()
    assert policy.calendar.hours[6][0].end == 1440


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"hours": {"funday": ["09:00-10:00"]}}, "unknown weekdays ['funday']"),
        ({"hours": {"mon": ["09:00-13:00", "12:00-14:00"]}}, "overlap"),
        ({"hours": {"mon": ["9-13"]}}, "is not a period"),
        ({"response": {"fax": {"minutes": 3}}}, "unknown channels ['fax']"),
        ({"response": {"email": {"minutes": 0}}}, "more than 0; write null instead of the target"),
        ({"response": {"phone": 0}}, "phone: a target is an object"),
        ({"response": {"phone": False}}, "or null for no target, not bool"),
        ({"response": {"phone": {}}}, "not an empty object"),
        (
            {"by_tier": [{"channel": "phone", "tier": "vip", "metric": "first_response"}]},
            "minutes\n  Field required",
        ),
        ({"warn_fraction": 1.0}, "less than 1"),
        ({"country": "XX"}, "XX"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_policy_that_cannot_work_is_refused_with_why(change: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError) as raised:
        PolicyConfig.model_validate(ITALIAN | change)
    assert fragment in str(raised.value)


def test_weak_admin_tokens_are_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="PRONTO_SLA_TOKENS must give every tenant a token"):
        SlaSettings(environment="production")
    strong = {"shop": "s" * 24}
    assert SlaSettings(environment="production", sla_tokens=strong).sla_tokens["shop"]


def test_without_hours_a_country_still_closes_its_holidays() -> None:
    policy = PolicyConfig.model_validate({"timezone": "Europe/Rome", "country": "IT"}).policy()
    assert policy.calendar.is_closed_day(date(2027, 3, 29))  # Easter Monday
    assert not policy.calendar.is_closed_day(date(2027, 3, 30))


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"hours": {}, "country": "ZZ"}, "ZZ"),
        ({"closures": [["2026-12-31", "2026-12-28"]]}, "ends before it starts"),
        ({"hours": {"mon": ["09:99-18:00"]}}, "is not a period"),
        ({"hours": {"mon": ["24:30-24:45"]}}, "is not a period"),
    ],
)
def test_more_policies_that_cannot_work(change: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError) as raised:
        PolicyConfig.model_validate(ITALIAN | change)
    assert fragment in str(raised.value)
