"""The webhook requests each platform would send to ingest for a customer's message, signed as it signs them.

Pure and deterministic: the same message gives the same bytes, so a retried delivery is a duplicate to ingest.
"""

from __future__ import annotations

import base64
import email.policy
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from services.ingest.channels.signatures import twilio_signature

# The shop's own accounts on each platform (the side receiving the messages).
PAGE_ID = "104923847561283"
INSTAGRAM_ACCOUNT_ID = "17841457392018465"
WHATSAPP_ACCOUNT_ID = "102290129340398"
WHATSAPP_NUMBER_ID = "106540352242922"
WHATSAPP_DISPLAY_NUMBER = "390287654321"
X_ACCOUNT_ID = "1587342901136441344"
TWILIO_ACCOUNT_SID = "AC3f8b2c7d9e0a41b6c5d8e7f90a1b2c3d"
SHOP_PHONE = "+390294751200"
SHOP_EMAIL = "support@shop.example"
CUSTOMER_DOMAIN = "customers.example"


@dataclass(frozen=True)
class CustomerMessage:
    channel: str
    customer_id: str
    name: str
    text: str
    message_id: str
    sent_at: float


@dataclass(frozen=True)
class WebhookRequest:
    path: str
    body: bytes
    headers: dict[str, str]


def _digest(kind: str, value: str) -> bytes:
    return hashlib.sha256(f"{kind}\x1f{value}".encode()).digest()


def _hex(kind: str, value: str, length: int = 32) -> str:
    return _digest(kind, value).hex()[:length]


def _digits(kind: str, value: str, length: int) -> str:
    """A number of exactly ``length`` digits (no leading zero), stable for ``value``."""
    low = 10 ** (length - 1)
    return str(low + int.from_bytes(_digest(kind, value), "big") % (9 * low))


def _b64(kind: str, value: str) -> str:
    return base64.urlsafe_b64encode(_digest(kind, value)).decode().rstrip("=")


def _ms(message: CustomerMessage) -> int:
    return round(message.sent_at * 1000)


def _iso(message: CustomerMessage) -> str:
    moment = datetime.fromtimestamp(message.sent_at, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json(payload: Any, ascii_only: bool = False) -> bytes:
    return json.dumps(payload, ensure_ascii=ascii_only, separators=(",", ":")).encode()


def _phone_number(message: CustomerMessage) -> str:
    """An Italian mobile number in E.164, the same for a customer on the phone and on WhatsApp."""
    return "+393" + _digits("phone", message.customer_id, 9)


def _email_address(message: CustomerMessage) -> str:
    return f"customer-{_hex('email', message.customer_id, 12)}@{CUSTOMER_DOMAIN}"


def _subject(text: str) -> str:
    """The text's first line, shortened: cut at every line break Python knows (a Subject holding
    U+2028 or NEL is refused by the e-mail library), not only at \\n."""
    first_line = next(iter(text.strip().splitlines()), "")
    return first_line if len(first_line) <= 60 else first_line[:57].rstrip() + "..."


def _web_chat(message: CustomerMessage) -> tuple[str, bytes]:
    payload = {
        "session_id": "s-" + _hex("session", message.customer_id, 16),
        "message_id": "m-" + _hex("chat-message", message.message_id, 16),
        "text": message.text,
        "visitor": {"id": "v-" + _hex("visitor", message.customer_id, 16), "name": message.name},
        "sent_at": _iso(message),
    }
    return "chat", _json(payload)


def _contact_form(message: CustomerMessage) -> tuple[str, bytes]:
    """Each submission is a conversation of its own in ingest, whoever sends it."""
    payload = {
        "submission_id": "f-" + _hex("submission", message.message_id, 16),
        "name": message.name,
        "email": _email_address(message),
        "subject": _subject(message.text),
        "message": message.text,
        "submitted_at": _iso(message),
    }
    return "contact-form", _json(payload)


def _phone(message: CustomerMessage) -> tuple[str, bytes]:
    """Twilio's transcription callback for a voicemail: the transcription is the message's text."""
    caller = _phone_number(message)
    recording = "RE" + _hex("recording", message.message_id)
    recording_url = f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Recordings/{recording}"
    transcription = "TR" + _hex("transcription", message.message_id)
    fields = {
        "AccountSid": TWILIO_ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": "CA" + _hex("call", message.message_id),
        "Called": SHOP_PHONE,
        "Caller": caller,
        "CallerName": message.name,
        "CallStatus": "completed",
        "Direction": "inbound",
        "From": caller,
        "To": SHOP_PHONE,
        "RecordingSid": recording,
        "RecordingUrl": recording_url,
        "TranscriptionSid": transcription,
        "TranscriptionStatus": "completed",
        "TranscriptionText": message.text,
        "TranscriptionUrl": f"{recording_url}/Transcriptions/{transcription}",
    }
    return "phone", urlencode(fields).encode()


def _meta(kind: str, entry: dict[str, Any]) -> bytes:
    """Meta escapes non-ASCII as \\uXXXX in what it signs."""
    return _json({"object": kind, "entry": [entry]}, ascii_only=True)


def _direct_message(account: str, customer: str, mid: str, message: CustomerMessage) -> dict[str, Any]:
    """A Messenger or Instagram DM entry; Meta sends no sender name (it is in the User Profile API)."""
    event = {
        "sender": {"id": customer},
        "recipient": {"id": account},
        "timestamp": _ms(message),
        "message": {"mid": mid, "text": message.text},
    }
    return {"id": account, "time": _ms(message), "messaging": [event]}


def _facebook(message: CustomerMessage) -> tuple[str, bytes]:
    psid = _digits("facebook", message.customer_id, 17)
    mid = "m_" + _b64("facebook-message", message.message_id)
    return "meta", _meta("page", _direct_message(PAGE_ID, psid, mid, message))


def _instagram(message: CustomerMessage) -> tuple[str, bytes]:
    igsid = _digits("instagram", message.customer_id, 16)
    number = _digits("instagram-message", message.message_id, 39)
    item = f"ig_item:1:IGMessageID:{INSTAGRAM_ACCOUNT_ID}:{number}"
    mid = base64.b64encode(item.encode()).decode().rstrip("=")
    return "meta", _meta("instagram", _direct_message(INSTAGRAM_ACCOUNT_ID, igsid, mid, message))


def _whatsapp(message: CustomerMessage) -> tuple[str, bytes]:
    wa_id = _phone_number(message).removeprefix("+")
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": WHATSAPP_DISPLAY_NUMBER,
            "phone_number_id": WHATSAPP_NUMBER_ID,
        },
        "contacts": [{"profile": {"name": message.name}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": "wamid." + _b64("whatsapp-message", message.message_id),
                "timestamp": str(int(message.sent_at)),
                "type": "text",
                "text": {"body": message.text},
            }
        ],
    }
    entry = {"id": WHATSAPP_ACCOUNT_ID, "changes": [{"value": value, "field": "messages"}]}
    return "meta", _meta("whatsapp_business_account", entry)


def _telegram(message: CustomerMessage) -> tuple[str, bytes]:
    user_id = int(_digits("telegram", message.customer_id, 10))
    first, _, last = message.name.partition(" ")
    person: dict[str, Any] = {"first_name": first}
    if last:
        person["last_name"] = last
    update = {
        "update_id": int(_digits("telegram-update", message.message_id, 9)),
        "message": {
            "message_id": int(_digits("telegram-message", message.message_id, 9)),
            "from": {"id": user_id, "is_bot": False, **person},
            "chat": {"id": user_id, **person, "type": "private"},
            "date": int(message.sent_at),
            "text": message.text,
        },
    }
    return "telegram", _json(update)


def _viber(message: CustomerMessage) -> tuple[str, bytes]:
    callback = {
        "event": "message",
        "timestamp": _ms(message),
        "message_token": int(_digits("viber-message", message.message_id, 19)),
        "sender": {
            "id": base64.b64encode(_digest("viber", message.customer_id)[:16]).decode(),
            "name": message.name,
            "api_version": 1,
        },
        "message": {"text": message.text, "type": "text"},
        "silent": False,
    }
    return "viber", _json(callback)


def _x(message: CustomerMessage) -> tuple[str, bytes]:
    sender = _digits("x", message.customer_id, 19)
    event = {
        "type": "message_create",
        "id": _digits("x-message", message.message_id, 19),
        "created_timestamp": str(_ms(message)),
        "message_create": {
            "target": {"recipient_id": X_ACCOUNT_ID},
            "sender_id": sender,
            "message_data": {"text": message.text},
        },
    }
    user = {"id": sender, "name": message.name, "screen_name": "c_" + _hex("x-user", message.customer_id, 10)}
    payload = {"for_user_id": X_ACCOUNT_ID, "direct_message_events": [event], "users": {sender: user}}
    return "x", _json(payload)


def _email(message: CustomerMessage) -> tuple[str, bytes]:
    """A raw message; every message of a customer names the same thread root, as a reply would."""
    address = _email_address(message)
    mail = EmailMessage()
    mail["From"] = Address(display_name=message.name, addr_spec=address)
    mail["To"] = Address(display_name="Customer support", addr_spec=SHOP_EMAIL)
    mail["Subject"] = _subject(message.text)
    mail["Date"] = format_datetime(datetime.fromtimestamp(int(message.sent_at), UTC))
    mail["Message-ID"] = f"<{_hex('email-message', message.message_id)}@{CUSTOMER_DOMAIN}>"
    mail["References"] = f"<thread-{_hex('email-thread', message.customer_id)}@{CUSTOMER_DOMAIN}>"
    mail.set_content(message.text, charset="utf-8")
    return "email", mail.as_bytes(policy=email.policy.SMTP)


_BUILDERS: dict[str, Callable[[CustomerMessage], tuple[str, bytes]]] = {
    "email": _email,
    "web_chat": _web_chat,
    "contact_form": _contact_form,
    "phone": _phone,
    "facebook": _facebook,
    "instagram": _instagram,
    "x": _x,
    "whatsapp": _whatsapp,
    "telegram": _telegram,
    "viber": _viber,
}
CHANNELS = tuple(_BUILDERS)


def webhook_request(
    tenant: str, message: CustomerMessage, secrets: Mapping[str, str], base_url: str
) -> WebhookRequest:
    """The request the platform of ``message.channel`` sends to ingest's webhook for ``tenant``."""
    build = _BUILDERS.get(message.channel)
    if build is None:
        raise ValueError(f"unknown channel {message.channel!r}; choose among {', '.join(CHANNELS)}")
    route, body = build(message)
    path = f"/webhooks/{tenant}/{route}"
    return WebhookRequest(path, body, signed_headers(route, body, secrets, base_url.rstrip("/") + path))


def _hmac_hex(key: str, body: bytes) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def signed_headers(route: str, body: bytes, secrets: Mapping[str, str], url: str = "") -> dict[str, str]:
    """The headers the platform behind ``route`` sends with ``body``; Twilio also signs the full ``url``."""
    if route in ("chat", "contact-form", "phone/callback-request"):
        return {
            "Content-Type": "application/json",
            "X-Pronto-Signature": "sha256=" + _hmac_hex(secrets["shop_key"], body),
        }
    if route == "meta":
        return {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": "sha256=" + _hmac_hex(secrets["meta_app_secret"], body),
        }
    if route == "telegram":
        return {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": secrets["telegram_secret_token"],
        }
    if route == "viber":
        return {
            "Content-Type": "application/json",
            "X-Viber-Content-Signature": _hmac_hex(secrets["viber_auth_token"], body),
        }
    if route == "x":
        digest = hmac.new(secrets["x_consumer_secret"].encode(), body, hashlib.sha256).digest()
        return {
            "Content-Type": "application/json",
            "x-twitter-webhooks-signature": "sha256=" + base64.b64encode(digest).decode(),
        }
    if route in ("email", "email/json"):
        kind = "message/rfc822" if route == "email" else "application/json"
        return {"Content-Type": kind, "Authorization": f"Bearer {secrets['email_token']}"}
    if route == "phone":
        params = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(secrets["twilio_auth_token"], url, params),
        }
    if route == "email/mailgun":
        return {"Content-Type": "application/x-www-form-urlencoded"}
    if route == "email/sendgrid":
        # Inbound Parse posts multipart/form-data; the boundary is the body's first line.
        first = body.split(b"\r\n", 1)[0].removeprefix(b"--")
        boundary = first.decode() if re.fullmatch(rb"[0-9A-Za-z'()+_,./:=?-]{1,70}", first) else "none"
        return {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Authorization": f"Bearer {secrets['email_token']}",
        }
    raise ValueError(f"no signing rule for {route}")
