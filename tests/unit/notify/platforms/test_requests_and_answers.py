"""Each platform's request as its API documents it, and what each documented answer means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notify.delivery.adapters import Outgoing, Sent
from services.notify.delivery.platforms import meta, telegram, viber, x
from services.notify.domain.windows import Messaging
from services.notify.errors import DeliveryError

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def message(**fields: object) -> Outgoing:
    base: dict[str, object] = {
        "id": "n-1",
        "tenant": "shop",
        "recipient_kind": "customer",
        "recipient": "393331234567",
        "kind": "reply",
        "language": "it",
        "text": "Arriva domani.\n\n— Ottavia, assistenza clienti",
        "conversation_id": "c-1",
        "channel": "whatsapp",
        "created_at": NOW,
        "operator_name": "Ottavia",
    }
    return Outgoing(**{**base, **fields})  # type: ignore[arg-type]


def failure(check: object, *args: object) -> DeliveryError:
    with pytest.raises(DeliveryError) as failed:
        check(*args)  # type: ignore[operator]
    return failed.value


def test_telegram_send_message_and_its_answers() -> None:
    url, body = telegram.request("https://api.telegram.org", "123:abc", "42", "ciao")
    assert (url, body) == (
        "https://api.telegram.org/bot123:abc/sendMessage",
        {"chat_id": "42", "text": "ciao"},
    )
    assert telegram.outcome(200, {"ok": True, "result": {"message_id": 7}}, {}) == Sent("7")
    blocked = failure(
        telegram.outcome,
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
        {},
    )
    assert (blocked.permanent, blocked.code) == (True, "403")
    assert "bot was blocked" in blocked.reason
    flood = failure(
        telegram.outcome,
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 5",
            "parameters": {"retry_after": 5},
        },
        {},
    )
    assert (flood.permanent, flood.retry_after_s) == (False, 5.0)
    assert not failure(telegram.outcome, 502, {"raw": "Bad Gateway"}, {}).permanent


def test_whatsapp_text_and_template() -> None:
    text = meta.whatsapp_text(message())
    assert text == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "393331234567",
        "type": "text",
        "text": {"preview_url": False, "body": "Arriva domani.\n\n— Ottavia, assistenza clienti"},
        "biz_opaque_callback_data": "n-1",
    }
    template = meta.whatsapp_template(
        message(), meta.Template("reply", ("en_US", "it"), ("operator", "text"))
    )
    assert template["template"] == {
        "name": "reply",
        "language": {"code": "it"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Ottavia"},
                    {"type": "text", "text": "Arriva domani. — Ottavia, assistenza clienti"},
                ],
            }
        ],
    }
    assert meta.Template("reply", ("en_US", "de")).language_for("it") == "en_US"
    assert meta.Template("reply", ("en_US", "pt_BR")).language_for("pt-BR") == "pt_BR"


def test_graph_errors() -> None:
    closed = meta.error(
        "whatsapp",
        400,
        {
            "error": {
                "message": "(#131047) Re-engagement message",
                "code": 131047,
                "error_data": {"details": "more than 24 hours"},
            }
        },
        {},
    )
    assert (closed.permanent, closed.code) == (True, "131047")
    assert "more than 24 hours" in closed.reason
    limited = meta.error(
        "whatsapp", 400, {"error": {"message": "(#130429) Rate limit hit", "code": 130429}}, {}
    )
    assert not limited.permanent
    busy = meta.error("facebook", 429, {"error": {"message": "busy", "code": 613}}, {"Retry-After": "3"})
    assert (busy.permanent, busy.retry_after_s) == (False, 3.0)
    outside = meta.error(
        "facebook", 400, {"error": {"message": "outside window", "code": 10, "error_subcode": 2018278}}, {}
    )
    assert outside.permanent
    assert "10/2018278" in outside.reason


def test_send_api_messaging_types() -> None:
    response = meta.send_api_body(message(recipient="psid-1"), Messaging.RESPONSE)
    assert response == {
        "recipient": {"id": "psid-1"},
        "message": {"text": "Arriva domani.\n\n— Ottavia, assistenza clienti"},
        "messaging_type": "RESPONSE",
    }
    tagged = meta.send_api_body(message(recipient="psid-1"), Messaging.HUMAN_AGENT)
    assert (tagged["messaging_type"], tagged["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


async def test_send_api_outside_every_window_is_refused_without_a_request() -> None:
    adapter = meta.SendApi(None, "token", "instagram", human_agent=True, clock=lambda: NOW)  # type: ignore[arg-type]
    with pytest.raises(DeliveryError) as refused:
        await adapter.send(message(customer_wrote_at=NOW - timedelta(days=8)))
    assert refused.value.permanent
    assert "human-agent tag's 7 days" in refused.value.reason


def test_viber_send_message_and_its_statuses() -> None:
    body = viber.request(message(recipient="01234567890A="), "A shop with a very long name indeed")
    assert body == {
        "receiver": "01234567890A=",
        "min_api_version": 1,
        "sender": {"name": "A shop with a very long name"},
        "type": "text",
        "text": "Arriva domani.\n\n— Ottavia, assistenza clienti",
    }
    assert viber.outcome(
        200, {"status": 0, "status_message": "ok", "message_token": 5741311803571721087}, {}
    ) == Sent("5741311803571721087")
    unsubscribed = failure(viber.outcome, 200, {"status": 6, "status_message": "receiverNotSubscribed"}, {})
    assert (unsubscribed.permanent, unsubscribed.code) == (True, "6")
    assert not failure(viber.outcome, 200, {"status": 12, "status_message": "tooManyRequests"}, {}).permanent
    assert not failure(viber.outcome, 503, {}, {}).permanent


def test_x_direct_message_and_its_rate_limit() -> None:
    url, body = x.request("https://api.x.com", message(recipient="2244994945"))
    assert (url, body) == (
        "https://api.x.com/2/dm_conversations/with/2244994945/messages",
        {"text": message().text},
    )
    assert x.outcome(201, {"data": {"dm_conversation_id": "1-2", "dm_event_id": "9"}}, {}, 0) == Sent("9")
    limited = failure(x.outcome, 429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": "1030"}, 1000.0)
    assert (limited.permanent, limited.retry_after_s) == (False, 30.0)
    forbidden = failure(
        x.outcome,
        403,
        {"title": "Forbidden", "detail": "You cannot send messages to this user.", "type": "about:blank"},
        {},
        0,
    )
    assert forbidden.permanent
    assert "cannot send messages" in forbidden.reason


async def test_outside_the_window_only_a_reply_goes_as_the_template_or_with_the_human_agent_tag() -> None:
    whatsapp = meta.WhatsApp(None, "1065", "t", meta.Template("reply"), clock=lambda: NOW)  # type: ignore[arg-type]
    with pytest.raises(DeliveryError) as refused:
        await whatsapp.template_instead(message(kind="assigned"))
    assert refused.value.permanent
    assert refused.value.code == "131047"
    instagram = meta.SendApi(None, "t", "instagram", human_agent=True, clock=lambda: NOW)  # type: ignore[arg-type]
    with pytest.raises(DeliveryError) as closed:
        await instagram.send(message(kind="queue_position", customer_wrote_at=NOW - timedelta(days=2)))
    assert "24-hour messaging window has closed" in closed.value.reason


def test_texts_beyond_a_platforms_limit_are_cut_and_say_so() -> None:
    text, note = meta.cut("a" * 2500, meta.MESSENGER_LIMIT)
    assert (len(text), text[-1], note) == (2000, "…", "text cut to 2000 characters (the platform's limit)")
    text, _ = meta.cut("è" * 900, 1000, meta.INSTAGRAM_LIMIT_BYTES)
    assert len(text.encode()) <= 1000
    assert meta.cut("short", 2000) == ("short", "")
    assert len(telegram.request("https://t", "k", "1", "x" * 5000)[1]["text"]) == telegram.LIMIT
