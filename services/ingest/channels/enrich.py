"""What Pronto adds to every message a channel did not say: its language and topic hints."""

from __future__ import annotations

from collections.abc import Iterable

from pronto.v1 import events_pb2
from services.ingest.channels.language import LanguageDetector
from services.ingest.channels.topics import topic_hints

# Enough text to tell a language or a topic; detection cost grows with length (long e-mails).
_SAMPLE_CHARS = 1_000


class Enricher:
    def __init__(self, detector: LanguageDetector) -> None:
        self._detector = detector

    def complete(self, messages: Iterable[events_pb2.MessageReceived]) -> None:
        for message in messages:
            words = f"{message.subject}\n{message.text}".strip()[:_SAMPLE_CHARS]
            if not message.language:
                message.language = self._detector.detect(words)
            if not message.topic_hints:
                message.topic_hints.extend(topic_hints(words))  # type: ignore[arg-type]
