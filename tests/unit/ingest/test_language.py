"""Declared language against the text's (issue #19, defect 5): pure rules, no detector."""

from __future__ import annotations

import pytest

from services.ingest.channels.email import best_text
from services.ingest.channels.language import primary, settled

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
