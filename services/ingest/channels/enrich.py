"""What Pronto adds to every message a channel did not say: its language and topic hints."""

from __future__ import annotations

from collections.abc import Iterable

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels.language import LanguageDetector, settled
from services.ingest.channels.notices import is_notice
from services.ingest.channels.topics import topic_hints

# Enough text to tell a language or a topic; detection cost grows with length (long e-mails).
_SAMPLE_CHARS = 1_000
# Channels whose language tag is the sender's software's setting, to be checked against the text:
# e-mail's Content-Language (the mail client's locale), Viber's sender language (the phone's).
_DECLARED_BY_SOFTWARE = {
    common_pb2.CHANNEL_EMAIL: "Content-Language",
    common_pb2.CHANNEL_VIBER: "the sender's Viber language",
}


def _customers_words(message: events_pb2.MessageReceived) -> bool:
    """Whether the message's text is what the customer wrote."""
    return not is_notice(message.text) and message.kind != events_pb2.MESSAGE_KIND_LOCATION


class Enricher:
    def __init__(self, detector: LanguageDetector) -> None:
        self._detector = detector

    def complete(self, messages: Iterable[events_pb2.MessageReceived]) -> None:
        for message in messages:
            words = f"{message.subject}\n{message.text}".strip()[:_SAMPLE_CHARS]
            # Only the customer's words tell their language: not the notice Pronto wrote for them,
            # nor a shared place's name and address (a tourist sharing the Duomo writes no Italian).
            said = words if _customers_words(message) else message.subject[:_SAMPLE_CHARS]
            if not message.language:
                message.language = self._detector.detect(said)
            elif message.channel in _DECLARED_BY_SOFTWARE:
                declared = message.language
                message.language = settled(
                    declared, self._detector.detect(said), said, self._detector.languages
                )
                if message.language != declared:
                    message.notes.append(
                        f"declared language {declared!r} ({_DECLARED_BY_SOFTWARE[message.channel]}), "
                        f"but the text reads as {message.language!r}"
                    )
            if not message.topic_hints:
                message.topic_hints.extend(topic_hints(words))  # type: ignore[arg-type]
