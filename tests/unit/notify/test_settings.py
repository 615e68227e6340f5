"""Notify's configuration: mistakes are refused at start, with the field named."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.notify.settings import Contact, ShopConfig


def test_a_contact_is_reached_exactly_one_way() -> None:
    with pytest.raises(ValidationError, match="exactly one of email, webhook or slack"):
        Contact.model_validate({"email": "a@shop.test", "slack": "https://hooks.example/x"})
    with pytest.raises(ValidationError, match="exactly one"):
        Contact.model_validate({})


def test_webhook_secrets_must_be_long_enough_and_urls_http() -> None:
    with pytest.raises(ValidationError, match="at least 16"):
        Contact.model_validate({"webhook": {"url": "https://shop.test/hook", "secret": "short"}})
    with pytest.raises(ValidationError, match="url"):
        Contact.model_validate({"webhook": {"url": "ftp://shop.test", "secret": "x" * 16}})


def test_unknown_channels_weekdays_zones_and_template_fields_are_named() -> None:
    with pytest.raises(ValidationError, match="unknown channels \\['fax'\\]"):
        ShopConfig.model_validate({"customer_webhooks": {"fax": {"url": "http://x", "secret": "x" * 16}}})
    with pytest.raises(ValidationError, match="unknown weekdays"):
        ShopConfig.model_validate({"staff_hours": {"monday": ["09:00-17:00"]}})
    with pytest.raises(ValidationError, match="unknown time zone"):
        ShopConfig.model_validate({"timezone": "Europe/Milano"})
    with pytest.raises(ValidationError, match="templates: assigned/it"):
        ShopConfig.model_validate({"templates": {"assigned": {"it": "Ciao {nome}"}}})


def test_staff_hours_make_a_calendar_and_a_contact_may_have_its_own() -> None:
    shop = ShopConfig.model_validate(
        {
            "timezone": "Europe/Rome",
            "staff_hours": {"mon": ["08:00-20:00"]},
            "operators": {"ola": {"email": "ola@shop.test", "hours": {"tue": ["09:00-12:00"]}}},
        }
    )
    assert shop.calendar({}) is not None
    assert shop.calendar(shop.operators["ola"].hours) is not None
    assert ShopConfig().calendar({}) is None  # no hours: staff may be told anything at any time


def test_only_staff_notifications_can_be_limited() -> None:
    assert ShopConfig().limited_kinds == {"breach", "predicted_breach", "queue_over"}
    with pytest.raises(ValidationError, match="limited_kinds: \\['assigned'\\] are not staff notifications"):
        ShopConfig.model_validate({"limited_kinds": ["assigned"]})
