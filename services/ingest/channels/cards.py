"""Places and contact cards as chat platforms share them: a ``geo:`` link and a vCard. No I/O.

WhatsApp sends locations (a current one, or a named place) and contact cards; Telegram's contacts
and venues carry the same things in other fields and are read into the same shapes (its parser
builds a card in WhatsApp's form). One place for both, so that an operator reads a shared place or
contact the same whichever app it came from.
"""

from __future__ import annotations

from urllib.parse import quote

from pronto.v1 import common_pb2
from services.ingest.channels.payload import Obj
from services.ingest.errors import MalformedPayload


def place(where: Obj) -> common_pb2.Attachment:
    """The coordinates as a ``geo:`` link (RFC 5870), as the other channels' locations have them.

    A current location has nothing else; a place adds its name (also the file name here), its
    address and sometimes its web page, which are in the text.
    """
    latitude, longitude = _coordinate(where, "latitude", 90), _coordinate(where, "longitude", 180)
    return common_pb2.Attachment(
        filename=where.str("name", ""), content_type="location", url=f"geo:{latitude},{longitude}"
    )


def _coordinate(where: Obj, key: str, limit: int) -> str:
    value = where.data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedPayload(f"{where.path}.{key} is required and must be a number")
    try:
        number = float(value)
    except ValueError as exc:
        raise MalformedPayload(f"{where.path}.{key} must be a number, got {value!r}") from exc
    if not -limit <= number <= limit:
        raise MalformedPayload(f"{where.path}.{key} must be within ±{limit}, got {value!r}")
    return repr(number) if isinstance(value, float) else str(value)


def _card_name(card: Obj) -> str:
    name = card.maybe("name")
    if name is None:
        return ""
    parts = (name.str("first_name", ""), name.str("middle_name", ""), name.str("last_name", ""))
    return name.str("formatted_name", "") or " ".join(filter(None, parts))


def _values(card: Obj, key: str, field: str) -> list[str]:
    return [v for v in (entry.str(field, "") for entry in card.list(key, required=False)) if v]


def contact_line(card: Obj) -> str:
    """One card as the operator reads it: ``Contact: Barbara Johnson, +1 940-555-1234, b@example.com``."""
    org = card.maybe("org")
    details = [
        _card_name(card),
        org.str("company", "") if org else "",
        *_values(card, "phones", "phone"),
        *_values(card, "emails", "email"),
    ]
    return "Contact: " + (", ".join(d for d in details if d) or "(no details shared)")


def vcard(card: Obj) -> common_pb2.Attachment:
    """The whole card as a vCard (RFC 6350) in a ``data:`` URL: every field the customer shared,
    in a form any address book or CRM imports, without a second request to Meta."""
    lines = ["BEGIN:VCARD", "VERSION:4.0", f"FN:{_escape(_card_name(card))}"]
    if (name := card.maybe("name")) is not None:
        fields = ("last_name", "first_name", "middle_name", "prefix", "suffix")
        lines.append("N:" + ";".join(_escape(name.str(f, "")) for f in fields))
    if (org := card.maybe("org")) is not None:
        lines.append(f"ORG:{_escape(org.str('company', ''))};{_escape(org.str('department', ''))}")
        if org.str("title", ""):
            lines.append(f"TITLE:{_escape(org.str('title'))}")
    for phone in card.list("phones", required=False):
        wa_id = phone.str("wa_id", "")  # the number's WhatsApp id: a parameter of its own
        params = _type(phone) + (f";X-WA-ID={_escape(wa_id)}" if wa_id else "")
        lines.append(f"TEL{params}:{_escape(phone.str('phone', ''))}")
    for email in card.list("emails", required=False):
        lines.append(f"EMAIL{_type(email)}:{_escape(email.str('email', ''))}")
    for address in card.list("addresses", required=False):
        parts = ("street", "city", "state", "zip", "country")
        lines.append(f"ADR{_type(address)}:;;" + ";".join(_escape(address.str(p, "")) for p in parts))
    for link in card.list("urls", required=False):
        lines.append(f"URL{_type(link)}:{_escape(link.str('url', ''))}")
    if card.str("birthday", ""):
        lines.append(f"BDAY:{_escape(card.str('birthday'))}")
    lines.append("END:VCARD")
    return vcard_attachment(_card_name(card), "\r\n".join(lines) + "\r\n")


def vcard_attachment(name: str, card: str) -> common_pb2.Attachment:
    """A vCard's text as an attachment: ``<name>.vcf``, the card itself in a ``data:`` URL."""
    return common_pb2.Attachment(
        filename=f"{name or 'contact'}.vcf",
        content_type="text/vcard",
        size_bytes=len(card.encode()),
        url="data:text/vcard;charset=utf-8," + quote(card, safe=""),
    )


def _type(entry: Obj) -> str:
    kind = entry.str("type", "")
    return f";TYPE={_escape(kind.lower())}" if kind else ""


def _escape(value: str) -> str:
    """A vCard text value: backslash, comma, semicolon and line breaks escaped (RFC 6350 3.4)."""
    return (
        value.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )
