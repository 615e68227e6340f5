"""Realistic customer messages in the shop's languages, generated from a seed. Pure: no I/O."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import cast

from pronto.v1 import common_pb2, events_pb2
from pronto.v1.common_pb2 import Channel, SupportTopic

# (language, text, topic) triples of the kinds shops really receive (orders, returns, invoices...).
SAMPLES: tuple[tuple[str, str, SupportTopic], ...] = (
    (
        "it",
        "Buongiorno, il mio ordine 4512 non è ancora arrivato. Potete verificare?",
        common_pb2.SUPPORT_TOPIC_SHIPPING,
    ),
    (
        "it",
        "Vorrei restituire le scarpe, sono troppo piccole. Come faccio il reso?",
        common_pb2.SUPPORT_TOPIC_RETURNS,
    ),
    ("it", "Mi serve la fattura per l'ordine di ieri, grazie.", common_pb2.SUPPORT_TOPIC_PAYMENTS),
    ("pl", "Dzień dobry, kiedy zostanie wysłane moje zamówienie?", common_pb2.SUPPORT_TOPIC_ORDERS),
    ("pl", "Chciałbym zwrócić produkt, jak to zrobić?", common_pb2.SUPPORT_TOPIC_RETURNS),
    ("pl", "Płatność nie przeszła, a pieniądze zniknęły z konta.", common_pb2.SUPPORT_TOPIC_PAYMENTS),
    ("en", "Hi, I can't log in to my account since yesterday.", common_pb2.SUPPORT_TOPIC_ACCOUNT),
    ("en", "Is this jacket available in size M?", common_pb2.SUPPORT_TOPIC_PRODUCT),
    ("es", "Hola, el paquete llegó dañado. Quiero una solución.", common_pb2.SUPPORT_TOPIC_COMPLAINT),
    ("es", "¿Cuándo llegará mi pedido a Madrid?", common_pb2.SUPPORT_TOPIC_SHIPPING),
    ("de", "Guten Tag, ich habe eine falsche Rechnung bekommen.", common_pb2.SUPPORT_TOPIC_PAYMENTS),
    ("de", "Wo ist meine Bestellung? Sie ist seit einer Woche unterwegs.", common_pb2.SUPPORT_TOPIC_SHIPPING),
)
NAMES = (
    "Giulia Rossi",
    "Marco Bianchi",
    "Anna Kowalska",
    "Piotr Nowak",
    "Emma Smith",
    "Lucía García",
    "Jonas Weber",
)
CHANNELS = tuple(cast(Channel, c) for c in common_pb2.Channel.values() if c != common_pb2.CHANNEL_UNSPECIFIED)
TIERS = (common_pb2.CUSTOMER_TIER_STANDARD,) * 6 + (
    common_pb2.CUSTOMER_TIER_GOLD,
    common_pb2.CUSTOMER_TIER_VIP,
)


@dataclass
class MessageFactory:
    """Customers writing about the same conversation a few times, on one channel each."""

    seed: int
    conversations: int = 500

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._count = 0

    def next(self) -> events_pb2.MessageReceived:
        self._count += 1
        n = self._random.randrange(self.conversations)
        conversation = random.Random(f"{self.seed}-{n}")  # a conversation keeps its customer and channel
        language, text, topic = conversation.choice(SAMPLES)
        channel = conversation.choice(CHANNELS)
        return events_pb2.MessageReceived(
            conversation_id=f"demo-{self.seed}-{n}",
            channel=channel,
            channel_message_id=f"demo-{self.seed}-msg-{self._count}",
            sender=common_pb2.Sender(
                id=f"customer-{self.seed}-{n}",
                display_name=conversation.choice(NAMES),
                tier=conversation.choice(TIERS),
            ),
            text=text,
            language=language,
            kind=events_pb2.MESSAGE_KIND_TEXT,
            is_public=channel in (common_pb2.CHANNEL_FACEBOOK, common_pb2.CHANNEL_X)
            and self._random.random() < 0.3,
            topic_hints=[topic],
        )
