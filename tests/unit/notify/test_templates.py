"""Customer messages in five languages, personal, with times the customer's way; shops override them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.notify.domain.templates import DEFAULTS, Kind, Templates

ROME = ZoneInfo("Europe/Rome")
MONDAY_0920 = datetime(2026, 11, 23, 9, 20, tzinfo=ROME)
CUSTOMER_KINDS = (
    Kind.ACKNOWLEDGED,
    Kind.ACKNOWLEDGED_CLOSED,
    Kind.ASSIGNED,
    Kind.NOBODY_ONLINE,
    Kind.QUEUE_POSITION,
)


@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
def test_every_customer_message_exists_in_five_languages(kind: Kind) -> None:
    assert {"it", "pl", "en", "es", "de"} <= set(DEFAULTS[kind])


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("language", ["it", "pl", "en", "es", "de"])
def test_every_template_renders(kind: Kind, language: str) -> None:
    text, _ = Templates().render(
        kind,
        language,
        ROME,
        name="Anna Kowalska",
        operator="Giulia",
        when=MONDAY_0920,
        opens=MONDAY_0920,
        wait=timedelta(minutes=5),
        position=3,
        conversation="c1",
        channel="email",
        count=12,
    )
    assert "{" not in text
    assert text.strip()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "it",
            "Grazie, Marco, abbiamo ricevuto il tuo messaggio. "
            "Una persona ti risponderà entro lunedì 23 novembre alle 09:20.",
        ),
        (
            "pl-PL",
            "Dziękujemy, Marco, otrzymaliśmy Twoją wiadomość. "
            "Odpowiemy najpóźniej poniedziałek, 23 listopada, o 09:20.",
        ),
        (
            "de",
            "Danke, Marco, wir haben Ihre Nachricht erhalten. "
            "Ein Mensch antwortet Ihnen bis Montag, 23. November um 09:20.",
        ),
    ],
)
def test_the_acknowledgement_promises_a_time_in_the_customers_language(language: str, expected: str) -> None:
    text, _ = Templates().render(Kind.ACKNOWLEDGED, language, ROME, name="Marco Bianchi", when=MONDAY_0920)
    assert text == expected


def test_times_are_written_in_the_shops_zone() -> None:
    text, _ = Templates().render(Kind.ACKNOWLEDGED, "en", ZoneInfo("America/New_York"), when=MONDAY_0920)
    assert "Monday 23 November at 03:20" in text


def test_the_operator_introduces_themself_and_the_customer_is_called_by_name() -> None:
    text, language = Templates().render(Kind.ASSIGNED, "es", ROME, name="Lucía García", operator="Marco")
    assert (text, language) == ("Hola, Lucía, soy Marco y te ayudo yo.", "es")


def test_without_a_name_the_greeting_stays_correct() -> None:
    text, _ = Templates().render(Kind.ASSIGNED, "en", ROME, operator="Emma")
    assert text == "Hello, I am Emma and I will help you."


def test_a_language_without_templates_gets_english() -> None:
    text, language = Templates().render(
        Kind.QUEUE_POSITION, "ja", ROME, position=2, wait=timedelta(minutes=10)
    )
    assert (text, language) == ("You are number 2 in the queue; estimated wait: 10 minutes.", "en")


def test_waits_are_written_the_customers_way() -> None:
    text, _ = Templates().render(Kind.QUEUE_POSITION, "it", ROME, position=4, wait=timedelta(minutes=5))
    assert text == "Sei 4° in coda; attesa stimata: 5 minuti."


def test_a_shop_overrides_a_template() -> None:
    templates = Templates({Kind.ASSIGNED: {"it": "Buongiorno{name}! Qui {operator}, della Bottega Rossi."}})
    text, _ = templates.render(Kind.ASSIGNED, "it", ROME, name="Anna", operator="Giulia")
    assert text == "Buongiorno, Anna! Qui Giulia, della Bottega Rossi."
    assert (
        templates.render(Kind.ASSIGNED, "en", ROME, operator="Giulia")[0]
        == "Hello, I am Giulia and I will help you."
    )


def test_an_override_with_an_unknown_field_is_named_at_start() -> None:
    assert "nome" in Templates({Kind.ASSIGNED: {"it": "Ciao {nome}"}}).problem()
    assert Templates({Kind.ASSIGNED: {"it": "Ciao{name}, sono {operator}."}}).problem() == ""
