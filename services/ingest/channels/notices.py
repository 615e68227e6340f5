"""Texts Pronto writes in a message where the customer's own words are missing.

A platform's notice (a customer came back through an ad), a message of a type Pronto does not
read, an Instagram mention, a message with no text: the event still needs a text an operator can
read, so Pronto writes one, in English and in parentheses. It is not what the customer wrote, so
it must not decide the customer's language: the language detector sees only the customer's words
(an Italian customer's referral notice was once tagged ``en`` from Pronto's own sentence, issue #19).
"""

from __future__ import annotations


def notice(text: str) -> str:
    """Pronto's words in a message's text: "(came back to the conversation through ...)"."""
    return f"({text})"


def is_notice(text: str) -> bool:
    """Whether the whole text is Pronto's (a customer writing only "(ok)" loses nothing: too
    short to tell anyway)."""
    return text.startswith("(") and text.endswith(")")
