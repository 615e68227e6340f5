"""Topic hints from what the customer wrote, in the shop's languages.

A hint, not a classification: routing uses it as a skill to prefer, and
widens past it when nobody with the skill is free. Word stems per topic and
language, matched at the start of words, case- and accent-insensitively, so
that "ordine", "ordini" and "Bestellung"/"bestellt" all count.
"""

from __future__ import annotations

import re
import unicodedata

from pronto.v1 import common_pb2

Topic = int

# Stems by topic; all languages together (a stem rarely means something else in another of them).
_STEMS: dict[Topic, tuple[str, ...]] = {
    common_pb2.SUPPORT_TOPIC_ORDERS: (
        "ordin",
        "order",
        "zamowien",
        "zamówien",
        "pedido",
        "bestell",
        "auftrag",
        "commande",
    ),
    common_pb2.SUPPORT_TOPIC_PAYMENTS: (
        "fattur",
        "pagament",
        "pagat",
        "rimbors",
        "invoice",
        "payment",
        "paid",
        "refund",
        "charge",
        "faktur",
        "płatnoś",
        "platnos",
        "zapłac",
        "zaplac",
        "zwrot pieni",
        "factura",
        "pago",
        "reembols",
        "rechnung",
        "zahlung",
        "bezahl",
        "erstatt",
        "abbuch",
    ),
    common_pb2.SUPPORT_TOPIC_SHIPPING: (
        "spedizion",
        "consegn",
        "pacco",
        "corriere",
        "tracking",
        "shipping",
        "delivery",
        "deliver",
        "parcel",
        "courier",
        "dostaw",
        "przesyłk",
        "przesylk",
        "paczk",
        "kurier",
        "envío",
        "envio",
        "entrega",
        "paquete",
        "llegar",
        "llegad",
        "versand",
        "lieferung",
        "geliefert",
        "paket",
        "sendung",
        "zustell",
    ),
    common_pb2.SUPPORT_TOPIC_RETURNS: (
        "reso",
        "resi",
        "restitu",
        "rimand",
        "cambio",
        "sostitu",
        "return",
        "exchange",
        "send back",
        "zwrot",
        "zwróc",
        "zwroc",
        "wymian",
        "devoluc",
        "devolver",
        "cambiar",
        "rücksend",
        "rucksend",
        "retour",
        "umtausch",
        "zurückschick",
        "zuruckschick",
    ),
    common_pb2.SUPPORT_TOPIC_ACCOUNT: (
        "account",
        "password",
        "login",
        "accedere",
        "accesso",
        "registra",
        "konto",
        "hasło",
        "haslo",
        "zalogow",
        "logowan",
        "cuenta",
        "contraseña",
        "contrasena",
        "iniciar sesión",
        "passwort",
        "anmeld",
        "kennwort",
    ),
    common_pb2.SUPPORT_TOPIC_PRODUCT: (
        "prodott",
        "taglia",
        "disponibil",
        "colore",
        "product",
        "size",
        "available",
        "stock",
        "colour",
        "color",
        "produkt",
        "rozmiar",
        "dostępn",
        "dostepn",
        "kolor",
        "producto",
        "talla",
        "disponible",
        "größe",
        "grosse",
        "verfügbar",
        "verfugbar",
        "farbe",
    ),
    common_pb2.SUPPORT_TOPIC_COMPLAINT: (
        "reclam",
        "lament",
        "danneggiat",
        "rott",
        "vergogn",
        "inaccettabil",
        "complain",
        "damaged",
        "broken",
        "unacceptable",
        "terrible",
        "worst",
        "reklamac",
        "skarg",
        "uszkodz",
        "zepsut",
        "niedopuszczaln",
        "queja",
        "dañad",
        "danad",
        "roto",
        "inaceptable",
        "beschwerde",
        "beschädigt",
        "beschadigt",
        "kaputt",
        "unverschämt",
        "unverschamt",
        "reklamation",
    ),
}


def _fold(text: str) -> str:
    """Lower case without accents, so stems match however the customer typed them."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ł", "l")


_PATTERNS: dict[Topic, re.Pattern[str]] = {
    topic: re.compile(r"\b(?:" + "|".join(re.escape(_fold(s)) for s in sorted(set(stems))) + ")")
    for topic, stems in _STEMS.items()
}


def topic_hints(text: str) -> list[Topic]:
    """The topics the text mentions, in a stable order (the order of the SupportTopic enum)."""
    folded = _fold(text)
    return [topic for topic, pattern in sorted(_PATTERNS.items()) if pattern.search(folded)]
