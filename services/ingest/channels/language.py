"""Which language a customer wrote in, when the channel does not say.

Uses lingua (accurate on short texts, deterministic), restricted to the
languages shops serve: fewer candidates are both faster and more accurate.
A text too short or too ambiguous to tell gets no language rather than a guess.

A language a sender's software declares (e-mail's ``Content-Language``) is the
locale of the mail client, not what the customer wrote: Outlook set to Russian
tags a Polish e-mail ``ru-RU`` (issue #19). ``settled`` decides between the
declared language and what the text reads as.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from lingua import IsoCode639_1, LanguageDetectorBuilder

DEFAULT_LANGUAGES = ("it", "pl", "en", "es", "de", "fr", "pt", "nl")


# Languages written in a script other than Latin, by the first word of their letters' Unicode names.
# A text with no letter of its declared language's script cannot be in that language.
_SCRIPTS: dict[str, frozenset[str]] = {
    "CYRILLIC": frozenset({"ru", "uk", "be", "bg", "mk", "sr", "kk", "ky", "mn", "tg"}),
    "GREEK": frozenset({"el"}),
    "ARABIC": frozenset({"ar", "fa", "ur", "ps"}),
    "HEBREW": frozenset({"he", "yi"}),
    "DEVANAGARI": frozenset({"hi", "mr", "ne"}),
    "BENGALI": frozenset({"bn"}),
    "THAI": frozenset({"th"}),
    "GEORGIAN": frozenset({"ka"}),
    "ARMENIAN": frozenset({"hy"}),
    "HANGUL": frozenset({"ko"}),
    "CJK": frozenset({"zh", "ja"}),
    "HIRAGANA": frozenset({"ja"}),
    "KATAKANA": frozenset({"ja"}),
}


# Links (with or without a scheme), e-mail addresses and @handles.
_NOT_WORDS = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?<!\w)@\w+")


def primary(tag: str) -> str:
    """The language of a BCP 47 tag without region or script: "pt-BR" -> "pt"."""
    return tag.replace("_", "-").split("-")[0].lower()


def _scripts_of(text: str) -> set[str]:
    return {unicodedata.name(ch, "?").split()[0] for ch in text if ch.isalpha()}


def settled(declared: str, detected: str, text: str, detectable: Iterable[str]) -> str:
    """The language of a message whose sender's software declared ``declared``, when detection
    among the ``detectable`` languages read ``detected`` ("" when not confident) in ``text``.

    Detection wins when it is confident and it could have told the declared language apart (the
    declared language is one it knows), or when the text is not even written in the declared
    language's script (Polish tagged ``ru-RU``). Otherwise the declared tag stays: detection only
    chooses among the shop's languages, and confidently reads Swedish as German, so a Swedish
    e-mail tagged ``sv`` keeps ``sv``. The declared tag also stays, with its region, when detection
    agrees with its language.
    """
    if not declared or not detected or primary(declared) == detected:
        return declared or detected
    if primary(declared) in set(detectable):
        return detected
    scripts = [script for script, languages in _SCRIPTS.items() if primary(declared) in languages]
    if scripts and not _scripts_of(text) & set(scripts):
        return detected
    return declared


class LanguageDetector:
    def __init__(
        self, languages: Iterable[str] = DEFAULT_LANGUAGES, minimum_relative_distance: float = 0.25
    ) -> None:
        self.languages = tuple(languages)
        codes = [IsoCode639_1.from_str(code) for code in self.languages]
        self._detector = (
            LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
            .with_minimum_relative_distance(minimum_relative_distance)
            .with_preloaded_language_models()
            .build()
        )

    def detect(self, text: str) -> str:
        """A BCP 47 language tag such as "it", or "" when the text does not tell. Links, e-mail
        addresses and @handles are no language's words: left in, a t.co link made a Spanish
        message unreadable to the detector (issue #19)."""
        text = _NOT_WORDS.sub(" ", text)
        if not text.strip():
            return ""
        language = self._detector.detect_language_of(text)
        return "" if language is None else language.iso_code_639_1.name.lower()
