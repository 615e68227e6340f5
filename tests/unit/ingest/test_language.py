"""Declared language against the text's (issue #19, defect 5), and what the detector is shown."""

from __future__ import annotations

import pytest

from pronto.v1 import events_pb2
from services.ingest.channels.email_text import best_text
from services.ingest.channels.enrich import Enricher
from services.ingest.channels.language import LanguageDetector, primary, settled
from services.ingest.channels.notices import notice

SHOP = ("it", "pl", "en", "es", "de", "fr", "pt", "nl")


@pytest.mark.parametrize(
    ("declared", "detected", "text", "expected"),
    [
        ("ru-RU", "pl", "Dzień dobry, gdzie jest paczka?", "pl"),  # another script: the text wins
        ("ru-RU", "", "Dzień dobry", "ru-RU"),  # detection not confident: the tag stays
        ("ru", "de", "Здравствуйте, где мой заказ?", "ru"),  # written in the declared script
        ("it-IT", "pl", "Dzień dobry, gdzie jest paczka?", "pl"),  # detection knows Italian
        ("pt-BR", "pt", "Olá, onde está o meu pedido?", "pt-BR"),  # agrees: the region stays
        ("sv-SE", "de", "Hej, var är min beställning?", "sv-SE"),  # unknown to detection, same script
        ("", "it", "Buongiorno", "it"),
        ("el", "en", "Hello, where is my order?", "en"),
        ("ja", "en", "ご注文はどこですか", "ja"),
    ],
)
def test_settled(declared: str, detected: str, text: str, expected: str) -> None:
    assert settled(declared, detected, text, SHOP) == expected


def test_primary() -> None:
    assert [primary(t) for t in ("pt-BR", "en_GB", "IT", "zh-Hant-TW")] == ["pt", "en", "it", "zh"]


def test_best_text_prefers_a_plain_text_that_says_something() -> None:
    assert best_text("Ciao", "<p>Salve</p>") == "Ciao"
    assert best_text(" \r\n", "<p>Salve</p><p>a tutti</p>") == "Salve\na tutti"
    assert best_text("", "") == ""


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector(SHOP)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The X DM of issue #19's trial: with its t.co link the detector could not tell.
        ("Aquí está la foto del ticket https://t.co/6K2XKTSDz0", "es"),
        ("Scrivetemi a mario.rossi@example.it, grazie mille per l'aiuto", "it"),
        ("@pronto_shop dzień dobry, gdzie jest moja paczka?", "pl"),
        ("https://t.co/6K2XKTSDz0 www.example.com", ""),  # nothing but links: no language
    ],
)
def test_links_addresses_and_handles_are_not_the_customers_words(
    detector: LanguageDetector, text: str, expected: str
) -> None:
    assert detector.detect(text) == expected


def test_the_notice_pronto_writes_for_a_customer_does_not_decide_their_language(
    detector: LanguageDetector,
) -> None:
    came_back = events_pb2.MessageReceived(
        kind=events_pb2.MESSAGE_KIND_AUTOMATIC,
        text=notice("came back to the conversation through the ad Cappotti in saldo, ref cappotti"),
    )
    emailed = events_pb2.MessageReceived(
        subject="Ordine 4512 non arrivato", text=notice("text message without text")
    )
    Enricher(detector).complete([came_back, emailed])
    assert (came_back.language, emailed.language) == ("", "it")


def test_a_shared_place_does_not_decide_the_customers_language(detector: LanguageDetector) -> None:
    """The place's name and address are the place's language, not the customer's: a tourist
    sharing the Duomo writes no Italian (found by the whole-event WhatsApp location test)."""
    place = events_pb2.MessageReceived(
        kind=events_pb2.MESSAGE_KIND_LOCATION,
        text="Duomo di Milano, Piazza del Duomo, 20122 Milano, https://www.duomomilano.it",
    )
    Enricher(detector).complete([place])
    assert place.language == ""
