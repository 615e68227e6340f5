"""Which language a customer wrote in, when the channel does not say.

Uses lingua (accurate on short texts, deterministic), restricted to the
languages shops serve: fewer candidates are both faster and more accurate.
A text too short or too ambiguous to tell gets no language rather than a guess.
"""

from __future__ import annotations

from collections.abc import Iterable

from lingua import IsoCode639_1, LanguageDetectorBuilder

DEFAULT_LANGUAGES = ("it", "pl", "en", "es", "de", "fr", "pt", "nl")


class LanguageDetector:
    def __init__(
        self, languages: Iterable[str] = DEFAULT_LANGUAGES, minimum_relative_distance: float = 0.25
    ) -> None:
        codes = [IsoCode639_1.from_str(code) for code in languages]
        self._detector = (
            LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
            .with_minimum_relative_distance(minimum_relative_distance)
            .with_preloaded_language_models()
            .build()
        )

    def detect(self, text: str) -> str:
        """A BCP 47 language tag such as "it", or "" when the text does not tell."""
        if not text.strip():
            return ""
        language = self._detector.detect_language_of(text)
        return "" if language is None else language.iso_code_639_1.name.lower()
