"""The channels' webhooks: verify, parse, enrich, publish; answer only after the broker acknowledged.

Each route is the same five steps around a channel adapter (``channels/``):
the tenant's secrets, the body (413 past the limit), the signature (401),
the payload (422 with what is wrong), the writes (503 with Retry-After when
the broker did not acknowledge; the platform's retry then writes only what
is missing, as event ids are stable). Nothing is published for a refused
request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from pronto.errors import BrokerUnavailable
from pronto.metrics import ServiceMetrics
from pronto.v1 import events_pb2
from pronto.validation_errors import PlainErrorsRoute
from services.ingest.application import Ingest
from services.ingest.channels import email as mail
from services.ingest.channels import (
    forms,
    meta,
    meta_statuses,
    own_site,
    payload,
    phone,
    replays,
    signatures,
    telegram,
    viber,
    x,
)
from services.ingest.channels import twiml as twiml_answers
from services.ingest.channels.enrich import Enricher
from services.ingest.channels.payload import LONE_SURROGATES_NOTE, Unreadable, has_lone_surrogates
from services.ingest.channels.sanitise import sanitise
from services.ingest.errors import BadSignature, BodyTooLarge, InvalidEvent, MalformedPayload, NotConfigured
from services.ingest.settings import ChannelSecrets

log = logging.getLogger("pronto.ingest.webhooks")
Verify = Callable[[ChannelSecrets, bytes, Request], None]
# A channel that batches (Meta, X) or sends one event a request (Telegram, Viber) also returns the
# parts it cannot read, to be dead-lettered while the rest is accepted.
Parse = Callable[[str, bytes, Request], Sequence[events_pb2.MessageReceived | Unreadable]]
# The platforms' reports about what Pronto sent (statuses, deliveries, reads) in the same webhooks.
Reports = Callable[[bytes], Sequence[events_pb2.DeliveryStatusReported | Unreadable]]
# What the platform should do next, answered in the response itself instead of the counts (a
# Telegram Bot API call, Twilio's TwiML), or None when it expects nothing.
Answer = Callable[[bytes, Request, list[events_pb2.MessageReceived]], Response | None]
T = TypeVar("T")


def _parsed(
    parse: Callable[[str, bytes, Request], Sequence[T]], tenant: str, body: bytes, request: Request
) -> Sequence[T]:
    """The adapter's messages; whatever else it trips over in a hostile body is a 422, never a 500."""
    try:
        return parse(tenant, body, request)
    except MalformedPayload:
        raise
    except Exception as exc:  # RecursionError in deep MIME, LookupError in a charset...
        log.warning("payload refused by the parser: %s", payload.loggable(exc))
        raise MalformedPayload(f"the payload cannot be parsed: {type(exc).__name__}: {exc}") from exc


def secret(secrets: ChannelSecrets, name: str) -> str:
    value = getattr(secrets, name)
    if value is None:
        raise NotConfigured(f"this channel is not configured for the tenant ({name} is not set)")
    return str(value.get_secret_value())


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"the body is {declared} bytes, at most {limit} accepted")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"the body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


@dataclass
class Webhooks:
    ingest: Ingest
    channels: dict[str, ChannelSecrets]
    enricher: Enricher
    metrics: ServiceMetrics
    max_body_bytes: int
    retry_after_s: float
    public_url: str = ""
    # The language the phone line speaks (its TwiML menu), a BCP 47 tag; per tenant where it differs.
    phone_language: str = "en"
    phone_languages: dict[str, str] = field(default_factory=dict)

    def phone_language_of(self, tenant: str) -> str:
        return self.phone_languages.get(tenant, self.phone_language)

    # Mailgun's tokens within their replay window: one signature, one message (issue #26).
    mailgun_tokens: replays.SeenTokens = field(default_factory=replays.SeenTokens)

    async def handle(
        self,
        request: Request,
        tenant: str,
        label: str,
        verify: Verify,
        parse: Parse,
        reports: Reports | None = None,
        answer: Answer | None = None,
    ) -> Response:
        with self.metrics.in_flight(f"http.{label}"):
            try:
                secrets = self.channels.get(tenant)
                if secrets is None:
                    raise NotConfigured(f"no channels are configured for tenant {tenant!r}")
                body = await read_body(request, self.max_body_bytes)
                verify(secrets, body, request)
                parsed = _parsed(parse, tenant, body, request)
                parsed_reports = (
                    _parsed(lambda _t, b, _r: reports(b), tenant, body, request) if reports else []
                )
            except NotConfigured as exc:
                return self._refused(label, "not_configured", 404, str(exc))
            except BodyTooLarge as exc:
                return self._refused(label, "too_large", 413, str(exc))
            except BadSignature as exc:
                return self._refused(label, "unauthenticated", 401, str(exc))
            except MalformedPayload as exc:
                return self._refused(label, "malformed", 422, str(exc))
            messages = [m for m in parsed if isinstance(m, events_pb2.MessageReceived)]
            reported = [r for r in parsed_reports if isinstance(r, events_pb2.DeliveryStatusReported)]
            # One part both parsers trip over is one dead letter.
            unreadable = {u.path: u for u in (*parsed, *parsed_reports) if isinstance(u, Unreadable)}
            self.enricher.complete(messages)
            surrogates = has_lone_surrogates(body)
            for message in messages:
                sanitise(message, datetime.now(UTC))
                if surrogates:  # replaced while reading the JSON: the message says so
                    message.notes.append(LONE_SURROGATES_NOTE)
            try:
                traceparent = request.headers.get("traceparent", "")
                outcomes = await self.ingest.publish_messages(tenant, messages, traceparent)
                written = outcomes + await self.ingest.publish_statuses(tenant, reported, traceparent)
                dead = await self.ingest.publish_dead_letters(
                    tenant,
                    [
                        self._dead_letter(label, part, body, request.headers.get("content-type", ""))
                        for part in unreadable.values()
                    ],
                    traceparent,
                )
            except InvalidEvent as exc:
                return _error(422, "invalid", str(exc))
            except BrokerUnavailable as exc:
                retry = max(1, round(self.retry_after_s))
                return _error(503, "unavailable", f"{exc}; retry later", {"Retry-After": str(retry)})
            if answer is not None and (instructions := answer(body, request, messages)) is not None:
                return instructions
            return JSONResponse(
                {
                    # Every event written: customer messages and delivery reports.
                    "accepted": sum(not o.duplicate for o in written),
                    "duplicates": sum(o.duplicate for o in written),
                    # The customer messages'.
                    "event_ids": [o.event_id for o in outcomes],
                    "statuses": len(reported),
                    # Parts that could not be read, kept on the dead-letter topic instead of refused.
                    "dead_lettered": len(dead),
                }
            )

    @staticmethod
    def _dead_letter(
        route: str, part: Unreadable, body: bytes, content_type: str
    ) -> events_pb2.WebhookPartDeadLettered:
        log.warning("dead-lettering %s of a %s delivery: %s", part.path, route, part.reason)
        event = events_pb2.WebhookPartDeadLettered(
            channel=part.channel,  # type: ignore[arg-type]
            route=route,
            path=part.path,
            reason=part.reason,
            body=body,
            content_type=content_type,
        )
        event.received_at.FromDatetime(datetime.now(UTC))
        return event

    def _refused(self, label: str, reason: str, status: int, detail: str) -> JSONResponse:
        self.metrics.rejected(label, reason)
        return _error(status, reason, detail)

    def url_of(self, request: Request) -> str:
        """The URL the platform called, as it signed it (behind a proxy: the configured public URL)."""
        if not self.public_url:
            return str(request.url)
        query = f"?{request.url.query}" if request.url.query else ""
        return self.public_url.rstrip("/") + request.url.path + query


def signed(check: Callable[[Mapping[str, str], bytes, str], None], secret_name: str) -> Verify:
    """The route's check: the channel's own (``channels/<channel>.check_signature``) with the
    tenant's secret of that name."""
    return lambda secrets, body, request: check(request.headers, body, secret(secrets, secret_name))


_shop_signed = signed(own_site.check_signature, "shop_key")


def webhook_router(hooks: Webhooks) -> APIRouter:
    router = APIRouter(prefix="/webhooks/{tenant}", tags=["channel webhooks"], route_class=PlainErrorsRoute)

    def route(
        path: str,
        label: str,
        verify: Verify,
        parse: Parse,
        reports: Reports | None = None,
        answer: Answer | None = None,
    ) -> None:
        async def endpoint(tenant: str, request: Request) -> Response:
            return await hooks.handle(request, tenant, label, verify, parse, reports, answer)

        router.add_api_route(path, endpoint, methods=["POST"], name=f"{label} webhook")

    route("/chat", "web_chat", _shop_signed, lambda t, b, _: own_site.parse_chat(t, b))
    route("/contact-form", "contact_form", _shop_signed, lambda t, b, _: own_site.parse_contact_form(t, b))
    route(
        "/phone/callback-request", "phone", _shop_signed, lambda t, b, _: phone.parse_callback_request(t, b)
    )

    def twilio_verify(secrets: ChannelSecrets, body: bytes, request: Request) -> None:
        token = secret(secrets, "twilio_auth_token")
        phone.check_signature(request.headers, body, token, hooks.url_of(request))

    def twiml(body: bytes, request: Request, _: list[events_pb2.MessageReceived]) -> Response | None:
        """TwiML when Twilio asks what to do (the Voice URL, a Gather, Record or Dial action)."""
        params = dict(phone.form_params(body))
        if not twiml_answers.wants_instructions(params):
            return None
        language = hooks.phone_language_of(request.path_params.get("tenant", ""))
        spoken = twiml_answers.answer(params, language, hooks.url_of(request))
        return Response(spoken, media_type="application/xml")

    route(
        "/phone",
        "phone",
        twilio_verify,
        lambda t, b, _: phone.parse_voice(t, phone.form_params(b), hooks.phone_language_of(t)),
        answer=twiml,
    )

    route(
        "/meta",
        "meta",
        signed(meta.check_signature, "meta_app_secret"),
        lambda t, b, _: meta.parse(t, b),
        meta_statuses.meta_parts,
    )

    @router.get("/meta", name="meta verification handshake", response_model=None)
    def meta_handshake(tenant: str, request: Request) -> Response:
        params = request.query_params
        secrets = hooks.channels.get(tenant)
        token = secrets.meta_verify_token if secrets else None
        if token is None:
            return _error(404, "not_configured", "Meta is not configured for this tenant")
        if params.get("hub.mode") != "subscribe" or not params.get("hub.challenge"):
            return _error(422, "malformed", "hub.mode=subscribe and hub.challenge are required")
        try:
            signatures.check_token(
                params.get("hub.verify_token"), token.get_secret_value(), "hub.verify_token"
            )
        except BadSignature as exc:
            return _error(403, "forbidden", str(exc))
        return PlainTextResponse(params["hub.challenge"])

    # A button press is answered in the response (answerCallbackQuery), once it is on the broker.
    route(
        "/telegram",
        "telegram",
        signed(telegram.check_signature, "telegram_secret_token"),
        lambda t, b, _: telegram.parse(t, b),
        answer=lambda _b, _r, messages: (
            JSONResponse(call) if (call := telegram.webhook_answer(messages)) else None
        ),
    )

    route(
        "/viber",
        "viber",
        signed(viber.check_signature, "viber_auth_token"),
        lambda t, b, _: viber.parse(t, b),
        viber.report_parts,
    )

    route("/x", "x", signed(x.check_signature, "x_consumer_secret"), lambda t, b, _: x.parse(t, b))

    @router.get("/x", name="X challenge-response check", response_model=None)
    def x_crc(tenant: str, request: Request) -> Response:
        secrets = hooks.channels.get(tenant)
        consumer_secret = secrets.x_consumer_secret if secrets else None
        if consumer_secret is None:
            return _error(404, "not_configured", "X is not configured for this tenant")
        crc_token = request.query_params.get("crc_token", "")
        if not crc_token:
            return _error(422, "malformed", "crc_token is required")
        try:
            answer = signatures.x_crc_response(consumer_secret.get_secret_value(), crc_token)
        except MalformedPayload as exc:
            # Not X's token shape: answering would sign a would-be POST body (issue #26).
            hooks.metrics.rejected("x", "malformed")
            return _error(400, "malformed", str(exc))
        return JSONResponse({"response_token": answer})

    email_verify = signed(mail.check_signature, "email_token")

    route("/email", "email", email_verify, lambda t, b, _: mail.parse_raw(t, b))
    route("/email/json", "email", email_verify, lambda t, b, _: mail.parse_json(t, b))

    def form_of(body: bytes, request: Request) -> forms.Form:
        return forms.parse(request.headers.get("content-type", ""), body)

    # SendGrid's Inbound Parse signs nothing unless a security policy is set up: its URL carries the
    # tenant's e-mail token (basic auth, https://pronto:<token>@host/...), or its OAuth policy sends
    # it as a bearer token, exactly as for Postmark.
    route("/email/sendgrid", "email", email_verify, lambda t, b, r: mail.parse_sendgrid(t, form_of(b, r)))

    def mailgun_verify(secrets: ChannelSecrets, body: bytes, request: Request) -> None:
        key = secret(secrets, "mailgun_signing_key")
        # An unreadable form is a 422 (MalformedPayload), not an authentication failure.
        form = form_of(body, request)
        fields = dict(form.fields())
        now = time.time()
        signatures.check_mailgun(
            key, fields.get("timestamp", ""), fields.get("token", ""), fields.get("signature", ""), now=now
        )
        # The signature does not cover the message: the same token again must carry the same one.
        hooks.mailgun_tokens.use(
            request.path_params.get("tenant", ""),
            fields["timestamp"],
            fields["token"],
            form.digest(),
            forget_at=int(fields["timestamp"]) + signatures.MAILGUN_MAX_AGE_S,
            now=now,
        )

    route("/email/mailgun", "email", mailgun_verify, lambda t, b, r: mail.parse_mailgun(t, form_of(b, r)))
    return router
