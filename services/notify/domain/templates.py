"""What customers, operators and supervisors are told, in their language. No I/O.

Customer messages exist in Italian, Polish, English, Spanish and German
(English when the customer's language has none), call the customer by name
when it is known, and name the operator: the customer always knows who is
talking (DOMAIN.md). Times and durations are written the customer's way
(``lunedì 23 novembre alle 09:20``, ``5 minuti``) by Babel, in the shop's time zone. A shop may
override any template per language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_timedelta

FALLBACK = "en"


class Kind(Enum):
    # To the customer.
    ACKNOWLEDGED = "acknowledged"
    ACKNOWLEDGED_CLOSED = "acknowledged_closed"
    ASSIGNED = "assigned"
    NOBODY_ONLINE = "nobody_online"
    QUEUE_POSITION = "queue_position"
    # An operator's answer, signed with their name.
    REPLY = "reply"
    # To the operator.
    NEW_ASSIGNMENT = "new_assignment"
    SLA_WARNING = "sla_warning"
    # A phone customer is answered by a call: the operator's callback task.
    CALLBACK = "callback"
    # To the supervisor.
    BREACH = "breach"
    PREDICTED_BREACH = "predicted_breach"
    QUEUE_OVER = "queue_over"


# A moment as each language writes it, with its date: a promise for next week is not ambiguous.
MOMENT_PATTERNS = {
    "it": "EEEE d MMMM 'alle' HH:mm",
    "pl": "EEEE, d MMMM, 'o' HH:mm",
    "en": "EEEE d MMMM 'at' HH:mm",
    "es": "EEEE d 'de' MMMM 'a las' HH:mm",
    "de": "EEEE, d. MMMM 'um' HH:mm",
}

# What staff (operators, supervisors) are told, as opposed to customers.
STAFF_KINDS = frozenset(
    {
        Kind.NEW_ASSIGNMENT,
        Kind.SLA_WARNING,
        Kind.CALLBACK,
        Kind.BREACH,
        Kind.PREDICTED_BREACH,
        Kind.QUEUE_OVER,
    }
)

# Kind -> language -> template. Fields: name (", Giulia" or ""), operator, when, opens, wait,
# position, conversation, channel, count, text (the operator's), shop (" · Shop name" or ""),
# customer (the customer's name or id), phone.
FIELDS = (
    "name",
    "operator",
    "when",
    "opens",
    "wait",
    "position",
    "conversation",
    "channel",
    "count",
    "text",
    "shop",
    "customer",
    "phone",
)
DEFAULTS: dict[Kind, dict[str, str]] = {
    Kind.ACKNOWLEDGED: {
        "it": "Grazie{name}, abbiamo ricevuto il tuo messaggio. Una persona ti risponderà entro {when}.",
        "pl": "Dziękujemy{name}, otrzymaliśmy Twoją wiadomość. Odpowiemy najpóźniej {when}.",
        "en": "Thank you{name}, we have your message. A person will answer you by {when}.",
        "es": "Gracias{name}, hemos recibido tu mensaje. Una persona te responderá antes del {when}.",
        "de": "Danke{name}, wir haben Ihre Nachricht erhalten. Ein Mensch antwortet Ihnen bis {when}.",
    },
    Kind.ACKNOWLEDGED_CLOSED: {
        "it": "Grazie{name}, abbiamo ricevuto il tuo messaggio. Ora siamo chiusi: riapriamo {opens} "
        "e ti risponderemo entro {when}.",
        "pl": "Dziękujemy{name}, otrzymaliśmy Twoją wiadomość. Teraz jesteśmy zamknięci: otwieramy {opens}, "
        "odpowiemy najpóźniej {when}.",
        "en": "Thank you{name}, we have your message. We are closed now: we open again {opens} "
        "and will answer you by {when}.",
        "es": "Gracias{name}, hemos recibido tu mensaje. Ahora estamos cerrados: abrimos {opens} "
        "y te responderemos antes del {when}.",
        "de": "Danke{name}, wir haben Ihre Nachricht erhalten. Wir haben gerade geschlossen: wir öffnen "
        "{opens} und antworten Ihnen bis {when}.",
    },
    Kind.ASSIGNED: {
        "it": "Ciao{name}, sono {operator} e ti aiuto io.",
        "pl": "Dzień dobry{name}, nazywam się {operator} i pomogę Ci.",
        "en": "Hello{name}, I am {operator} and I will help you.",
        "es": "Hola{name}, soy {operator} y te ayudo yo.",
        "de": "Hallo{name}, ich bin {operator} und helfe Ihnen weiter.",
    },
    Kind.NOBODY_ONLINE: {
        "it": "Ciao{name}, in questo momento nessun operatore è collegato. Ti risponderemo per e-mail.",
        "pl": "Dzień dobry{name}, w tej chwili żaden konsultant nie jest dostępny. Odpowiemy e-mailem.",
        "en": "Hello{name}, no one is online right now. We will answer you by e-mail.",
        "es": "Hola{name}, ahora mismo no hay nadie conectado. Te responderemos por correo electrónico.",
        "de": "Hallo{name}, gerade ist niemand erreichbar. Wir antworten Ihnen per E-Mail.",
    },
    Kind.QUEUE_POSITION: {
        "it": "Sei {position}° in coda; attesa stimata: {wait}.",
        "pl": "Jesteś {position}. w kolejce; szacowany czas oczekiwania: {wait}.",
        "en": "You are number {position} in the queue; estimated wait: {wait}.",
        "es": "Eres el número {position} en la cola; espera estimada: {wait}.",
        "de": "Sie sind Nummer {position} in der Warteschlange; geschätzte Wartezeit: {wait}.",
    },
    # The customer always knows who is talking (DOMAIN.md): every answer is signed.
    Kind.REPLY: {
        "it": "{text}\n\n— {operator}, assistenza clienti{shop}",
        "pl": "{text}\n\n— {operator}, obsługa klienta{shop}",
        "en": "{text}\n\n— {operator}, customer care{shop}",
        "es": "{text}\n\n— {operator}, atención al cliente{shop}",
        "de": "{text}\n\n— {operator}, Kundenservice{shop}",
    },
    Kind.NEW_ASSIGNMENT: {FALLBACK: "New conversation {conversation} on {channel} for you."},
    Kind.CALLBACK: {FALLBACK: "Call {customer} back on {phone} (conversation {conversation}): {text}"},
    Kind.SLA_WARNING: {FALLBACK: "Conversation {conversation} on {channel} is due by {when}."},
    Kind.BREACH: {FALLBACK: "Conversation {conversation} on {channel} missed its target ({when})."},
    Kind.PREDICTED_BREACH: {
        FALLBACK: "Conversation {conversation} on {channel} will miss its target ({when}) at this pace."
    },
    Kind.QUEUE_OVER: {FALLBACK: "{count} conversations are waiting on {channel}."},
}


@dataclass(frozen=True)
class Templates:
    # Kind -> language -> template, per shop; wins over the defaults.
    overrides: Mapping[Kind, Mapping[str, str]] = field(default_factory=dict)

    def render(
        self,
        kind: Kind,
        language: str,
        zone: ZoneInfo,
        *,
        name: str = "",
        operator: str = "",
        when: datetime | None = None,
        opens: datetime | None = None,
        wait: timedelta | None = None,
        position: int = 0,
        conversation: str = "",
        channel: str = "",
        count: int = 0,
        text: str = "",
        shop: str = "",
        customer: str = "",
        phone: str = "",
    ) -> tuple[str, str]:
        """The text and the language it is written in (the customer's, else English)."""
        language = (language or FALLBACK).split("-")[0].lower()
        texts = {**DEFAULTS[kind], **self.overrides.get(kind, {})}
        chosen = language if language in texts else FALLBACK
        rendered = texts[chosen].format(
            name=f", {name.split()[0]}" if name.strip() else "",
            operator=operator,
            when=_moment(when, zone, chosen),
            opens=_moment(opens, zone, chosen),
            wait=format_timedelta(wait, locale=chosen, threshold=2) if wait is not None else "",
            position=position,
            conversation=conversation,
            channel=channel,
            count=count,
            text=text,
            shop=f" · {shop}" if shop else "",
            customer=customer,
            phone=phone,
        )
        return rendered, chosen

    def problem(self) -> str:
        """What is wrong with the overrides (an unknown field, a broken brace), or "" when nothing."""
        sample = datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC"))
        for kind, texts in self.overrides.items():
            for language in texts:
                try:
                    self.render(kind, language, ZoneInfo("UTC"), when=sample, opens=sample, wait=timedelta())
                except (KeyError, IndexError, ValueError) as exc:
                    return f"{kind.value}/{language}: {exc!r}; fields: {', '.join(FIELDS)}"
        return ""


def _moment(moment: datetime | None, zone: ZoneInfo, language: str) -> str:
    pattern = MOMENT_PATTERNS.get(language, MOMENT_PATTERNS[FALLBACK])
    return format_datetime(moment.astimezone(zone), pattern, locale=language) if moment else ""
