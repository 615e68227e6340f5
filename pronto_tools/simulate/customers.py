"""Customers writing to a shop, generated from a seed: who writes, on which channel, in which language.

Pure: no I/O. The same seed gives the same customers and messages, so a run can be repeated.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from pronto.v1 import common_pb2, events_pb2
from pronto.v1.common_pb2 import Channel, SupportTopic
from pronto_tools.simulate.channels import CustomerMessage

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
LANGUAGES = tuple(sorted({language for language, _, _ in SAMPLES}))
NAMES = {
    "it": ("Giulia Rossi", "Marco Bianchi", "Francesca Romano"),
    "pl": ("Anna Kowalska", "Piotr Nowak"),
    "en": ("Emma Smith", "Oliver Brown"),
    "es": ("Lucía García", "Javier López"),
    "de": ("Jonas Weber", "Lena Fischer"),
}
CHANNELS: dict[str, Channel] = {
    name.removeprefix("CHANNEL_").lower(): cast(Channel, value)
    for name, value in common_pb2.Channel.items()
    if value != common_pb2.CHANNEL_UNSPECIFIED
}
# A shop's usual mix: chat and e-mail first, messaging apps next, phone and X last.
DEFAULT_MIX: dict[str, float] = {
    "web_chat": 30,
    "email": 20,
    "whatsapp": 15,
    "facebook": 8,
    "instagram": 8,
    "contact_form": 5,
    "telegram": 5,
    "viber": 3,
    "x": 3,
    "phone": 3,
}
TIERS = (common_pb2.CUSTOMER_TIER_STANDARD,) * 6 + (
    common_pb2.CUSTOMER_TIER_GOLD,
    common_pb2.CUSTOMER_TIER_VIP,
)


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    channel: str
    language: str
    tier: int


@dataclass(frozen=True)
class Written:
    """One message a customer wrote, and what an integrator would publish for it over gRPC."""

    customer: Customer
    message: CustomerMessage
    topic: SupportTopic

    def as_event(self) -> events_pb2.MessageReceived:
        channel = CHANNELS[self.customer.channel]
        return events_pb2.MessageReceived(
            conversation_id=f"sim-{self.customer.id}",
            channel=channel,
            channel_message_id=self.message.message_id,
            sender=common_pb2.Sender(
                id=self.customer.id,
                display_name=self.customer.name,
                tier=self.customer.tier,  # type: ignore[arg-type]
            ),
            text=self.message.text,
            language=self.customer.language,
            kind=events_pb2.MESSAGE_KIND_TEXT,
            is_public=channel in (common_pb2.CHANNEL_FACEBOOK, common_pb2.CHANNEL_X)
            and self.customer.tier == common_pb2.CUSTOMER_TIER_VIP,
            topic_hints=[self.topic],
        )


def parse_mix(text: str) -> dict[str, float]:
    """'web_chat=3,email=1' -> weights; a channel without '=' weighs 1. Unknown channels are refused."""
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition("=")
        if name not in CHANNELS:
            raise ValueError(f"unknown channel {name!r}; choose among {', '.join(sorted(CHANNELS))}")
        mix[name] = float(weight or 1)
        if mix[name] < 0:
            raise ValueError(f"{name}: a weight cannot be negative")
    if not mix or sum(mix.values()) <= 0:
        raise ValueError("the channel mix needs at least one channel with a positive weight")
    return mix


@dataclass
class Customers:
    """New customers arrive; some who already wrote write again (a follow-up in the same conversation)."""

    seed: int
    mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    languages: Sequence[str] = LANGUAGES
    follow_up_share: float = 0.3
    # Part of every message id: another run with the same seed writes the same words as new messages
    # (with the same id, ingest would take them for retries of the first run's and write nothing).
    run: str = "run"

    def __post_init__(self) -> None:
        unknown = set(self.languages) - set(LANGUAGES)
        if unknown or not self.languages:
            raise ValueError(
                f"languages must be among {', '.join(LANGUAGES)}; got {sorted(unknown) or 'none'}"
            )
        self._random = random.Random(self.seed)
        self._channels = list(self.mix)
        self._weights = [self.mix[c] for c in self._channels]
        self._known: list[Customer] = []
        self._count = 0

    def next(self, now: float) -> Written:
        self._count += 1
        customer = (
            self._random.choice(self._known[-200:])
            if self._known and self._random.random() < self.follow_up_share
            else self._newcomer()
        )
        samples = [s for s in SAMPLES if s[0] == customer.language]
        _, text, topic = self._random.choice(samples)
        message = CustomerMessage(
            channel=customer.channel,
            customer_id=customer.id,
            name=customer.name,
            text=text,
            message_id=f"sim-{self.run}-{self.seed}-{self._count}",
            sent_at=now,
        )
        return Written(customer, message, topic)

    def _newcomer(self) -> Customer:
        language = self._random.choice(list(self.languages))
        customer = Customer(
            id=f"{self.seed}-{len(self._known) + 1}",
            name=self._random.choice(NAMES[language]),
            channel=self._random.choices(self._channels, self._weights)[0],
            language=language,
            tier=self._random.choice(TIERS),
        )
        self._known.append(customer)
        return customer
