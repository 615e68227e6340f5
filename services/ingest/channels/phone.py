"""Phone calls as conversations: missed calls, voicemail (with its transcription), callback requests.

Calls arrive as Twilio-compatible voice webhooks (form-encoded, signed with
X-Twilio-Signature): a status callback for a call nobody answered, a
transcription callback for a voicemail. A callback request is Pronto's own
JSON shape, sent by the shop's site:

    POST /webhooks/{tenant}/phone/callback-request
    {"request_id": "cb-77", "phone": "+393331234567", "name": "Marco Bianchi",
     "note": "Chiamatemi per il reso", "requested_at": "2026-11-23T10:15:00Z"}

The caller's number is the conversation: a missed call and the voicemail
that follows it land in the same one. A caller who presses 1 in the line's
menu (``twiml.py``, the Gather's ``Digits``) has asked to be called back: a
callback request, in the language the line spoke to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels import signatures
from services.ingest.channels.identity import conversation_id
from services.ingest.channels.payload import Obj, from_iso, load_json
from services.ingest.channels.twiml import CALLBACK_DIGIT
from services.ingest.errors import BadSignature, MalformedPayload

MISSED = {"no-answer", "busy", "failed", "canceled"}


def form_params(raw: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPayload(f"the body is not a form (application/x-www-form-urlencoded): {exc}") from exc


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise MalformedPayload(f"{name} is required")
    return value


def parse_voice(
    tenant: str, params: list[tuple[str, str]], language: str = ""
) -> list[events_pb2.MessageReceived]:
    """A Twilio voice request: a message for a missed call, a voicemail, or a callback asked for in
    the line's menu (``language`` is the one it speaks); nothing for other call states.

    An inbound call nobody answered shows as DialCallStatus (the <Dial> action) or CallStatus.
    """
    fields = dict(params)
    if fields.get("Direction", "inbound").startswith("outbound"):
        return []  # our own call out (a callback): its outcome is not a customer's message
    caller = _required(fields, "From")
    call = _required(fields, "CallSid")
    recording = fields.get("RecordingUrl", "")
    message = events_pb2.MessageReceived(
        conversation_id=conversation_id(tenant, "phone", caller),
        channel=common_pb2.CHANNEL_PHONE,
        sender=common_pb2.Sender(id=caller, phone=caller, display_name=fields.get("CallerName", "")),
    )
    if recording:
        message.attachments.add(filename="voicemail", content_type="audio/wav", url=recording)
    status = fields.get("DialCallStatus") or fields.get("CallStatus", "")
    if "TranscriptionSid" in fields:
        message.channel_message_id = _required(fields, "TranscriptionSid")
        message.kind = events_pb2.MESSAGE_KIND_VOICEMAIL
        if fields.get("TranscriptionStatus") == "completed":
            message.text = fields.get("TranscriptionText", "")
    elif recording:
        message.channel_message_id = fields.get("RecordingSid") or f"{call}:recording"
        message.kind = events_pb2.MESSAGE_KIND_VOICEMAIL
    elif fields.get("Digits") == CALLBACK_DIGIT:
        message.channel_message_id = f"{call}:callback"
        message.kind = events_pb2.MESSAGE_KIND_CALLBACK_REQUEST
        message.language = language
        message.text = "(pressed 1 in the phone line's menu: call me back)"
    elif status in MISSED:
        message.channel_message_id = f"{call}:{status}"
        message.kind = events_pb2.MESSAGE_KIND_MISSED_CALL
    else:
        return []
    return [message]


def parse_callback_request(tenant: str, raw: bytes) -> list[events_pb2.MessageReceived]:
    body = Obj(load_json(raw))
    phone = body.str("phone")
    message = events_pb2.MessageReceived(
        conversation_id=conversation_id(tenant, "phone", phone),
        channel=common_pb2.CHANNEL_PHONE,
        channel_message_id=body.str("request_id"),
        sender=common_pb2.Sender(id=phone, phone=phone, display_name=body.str("name", "")),
        text=body.str("note", ""),
        language=body.str("language", ""),
        kind=events_pb2.MESSAGE_KIND_CALLBACK_REQUEST,
    )
    if body.has("requested_at"):
        message.sent_at.CopyFrom(from_iso(body.str("requested_at"), "body.requested_at"))
    return [message]


def check_signature(headers: Mapping[str, str], body: bytes, auth_token: str, url: str) -> None:
    """Twilio signs the full URL and the sorted form parameters with the auth token:
    ``X-Twilio-Signature`` (https://www.twilio.com/docs/usage/webhooks/webhooks-security)."""
    try:
        params = form_params(body)
    except MalformedPayload as exc:
        raise BadSignature(f"the signature cannot match: {exc}") from exc
    signatures.check_twilio(headers.get("x-twilio-signature"), auth_token, url, params)
