"""E-mail answers in the customer's thread; web chat answers pushed, kept, or e-mailed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from services.notify.delivery.adapters import Outgoing, Sent, Smtp
from services.notify.delivery.platforms.mail import ThreadedEmail, threaded
from services.notify.delivery.platforms.webchat import WebChat, WebChatHub, events

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def message(**fields: object) -> Outgoing:
    base: dict[str, object] = {
        "id": "n-1",
        "tenant": "shop",
        "recipient_kind": "customer",
        "recipient": "visitor-1",
        "kind": "reply",
        "language": "it",
        "text": "Arriva domani.\n\n— Ottavia <3",
        "conversation_id": "c-1",
        "channel": "web_chat",
        "created_at": NOW,
    }
    return Outgoing(**{**base, **fields})  # type: ignore[arg-type]


def test_an_answer_by_e_mail_joins_the_thread() -> None:
    mail = threaded(
        message(
            thread_message_id="b@mail",
            thread_references=("<a@mail>", "<b@mail>"),
            thread_subject="Ordine 4512",
        ),
        "Negozio <aiuto@negozio.example>",
        "giulia@example.com",
        "Your message",
    )
    assert (mail["From"], mail["To"], mail["Subject"]) == (
        "Negozio <aiuto@negozio.example>",
        "giulia@example.com",
        "Re: Ordine 4512",
    )
    assert (mail["In-Reply-To"], mail["References"]) == ("<b@mail>", "<a@mail> <b@mail>")
    assert mail["Message-ID"] == "<n-1@pronto.notify>"
    assert mail.get_content_type() == "multipart/alternative"
    html = mail.get_body(("html",))
    assert html is not None
    assert "<p>Arriva domani.</p><p>— Ottavia &lt;3</p>" in html.get_content()
    assert threaded(message(thread_subject="RE: x"), "s@x", "t@x", "y")["Subject"] == "RE: x"


@pytest.mark.parametrize(
    "kind", ["acknowledged", "acknowledged_closed", "assigned", "nobody_online", "queue_position"]
)
def test_what_pronto_sends_on_its_own_says_so_and_asks_auto_responders_not_to_answer(kind: str) -> None:
    """RFC 3834 section 5: an acknowledgement answers the customer's message automatically
    (``auto-replied``); Exchange honours ``X-Auto-Response-Suppress``. Issue #19, defect 7."""
    mail = threaded(message(kind=kind, thread_message_id="b@mail"), "s@x", "giulia@example.com", "y")
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"


def test_an_operators_reply_is_a_persons_and_carries_no_auto_submitted() -> None:
    mail = threaded(message(kind="reply"), "s@x", "giulia@example.com", "y")
    assert mail["Auto-Submitted"] is None
    assert mail["X-Auto-Response-Suppress"] is None


@pytest.mark.parametrize("kind", ["new_assignment", "sla_warning", "breach", "digest"])
def test_staff_notifications_and_digests_are_auto_generated(kind: str) -> None:
    """Not an answer to any message: ``auto-generated`` (RFC 3834 section 5)."""
    smtp = Smtp("127.0.0.1", 25, "Pronto <pronto@shop.example>", 5.0)
    mail = smtp.email(message(kind=kind, recipient_kind="operator"), "ottavia@shop.example")
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["X-Auto-Response-Suppress"] == "All"


class Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def deliver(self, mail: object, to: str) -> None:
        self.sent.append((to, str(mail["Subject"])))  # type: ignore[index]


async def test_web_chat_pushes_keeps_or_e_mails() -> None:
    now = [NOW.timestamp()]
    hub = WebChatHub(clock=lambda: now[0])
    outbox = Outbox()
    email = ThreadedEmail(outbox, "s@negozio.example")  # type: ignore[arg-type]
    chat = WebChat(hub, email, gone_after_s=600, clock=lambda: now[0])

    # Nobody listening, the customer wrote just now: kept for the widget.
    kept = await chat.send(message(customer_email="giulia@example.com", customer_wrote_at=NOW))
    assert kept == Sent("web_chat:n-1", "kept for the widget's return")

    # The widget opens: what was kept comes first, then what is pushed.
    stream = events(hub, "shop", "visitor-1", keepalive_s=5)
    assert await anext(stream) == b": connected\n\n"
    assert b'"id": "n-1"' in await anext(stream)
    pushed = await chat.send(message(id="n-2"))
    assert pushed.note == "pushed to the open widget"
    assert b"id: n-2\n" in await asyncio.wait_for(anext(stream), 1)
    await stream.aclose()  # the widget closes

    # Gone for more than ten minutes, with an address: by e-mail, in a thread of its own.
    now[0] += 601
    mailed = await chat.send(message(id="n-3", customer_email="giulia@example.com", customer_wrote_at=NOW))
    assert mailed.platform_message_id == "<n-3@pronto.notify>"
    assert mailed.note == "the visitor has left the chat: sent by e-mail"
    assert outbox.sent == [("giulia@example.com", "Re: Your message")]
    # Without an address it waits for the widget.
    assert (await chat.send(message(id="n-4"))).note == "kept for the widget's return"
