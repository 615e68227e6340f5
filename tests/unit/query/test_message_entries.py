"""A customer message's context reaches the read model (issue #19).

The context is the message it replies to, the one an edit changes, and the ad or link that brought the
customer, which the conversation keeps too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from services.query.domain.conversation import with_entry
from services.query.domain.entries import Doc, conversation_event

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
AD = common_pb2.Referral(
    source="ad",
    ad_id="120208123456789",
    url="https://fb.me/3cr4Wqqkv",
    headline="Saldi d'inverno: -30%",
    body="Solo questa settimana",
    media_url="https://scontent.xx.fbcdn.net/ad.jpg",
    click_id="ARAkLkA8rmlFeiCktEJQ",
)
LINK = common_pb2.Referral(source="SHORTLINK", type="OPEN_THREAD", ref="winter-sale")


def message(n: int, **fields: object) -> Envelope:
    fields.setdefault("channel_message_id", f"wamid.{n}")
    payload = events_pb2.MessageReceived(
        conversation_id="conv-ctx",
        channel=common_pb2.CHANNEL_WHATSAPP,
        sender=common_pb2.Sender(id="393471234567"),
        text=f"message {n}",
        **fields,  # type: ignore[arg-type]
    )
    return Envelope(f"ctx-{n}", "/test", "shop", payload, START + timedelta(seconds=n))


def entry(envelope: Envelope) -> Doc:
    event = conversation_event(envelope)
    assert event is not None
    return event.entry


def fold(envelopes: list[Envelope]) -> Doc:
    doc: Doc | None = None
    for envelope in envelopes:
        event = conversation_event(envelope)
        assert event is not None
        doc = with_entry(doc, event.tenant, event.conversation_id, event.entry) or doc
    assert doc is not None
    return doc


def test_a_message_entry_keeps_what_it_replies_to_what_it_changes_and_its_referral() -> None:
    first = entry(message(1, referral=AD))
    reply = entry(message(2, reply_to_message_id="wamid.1"))
    edit = entry(
        message(3, kind=events_pb2.MESSAGE_KIND_EDITED, original_message_id="wamid.2", channel_message_id="e")
    )

    assert first["channel_message_id"] == "wamid.1"
    assert first["referral"] == {
        "source": "ad",
        "type": "",
        "ref": "",
        "ad_id": "120208123456789",
        "post_id": "",
        "url": "https://fb.me/3cr4Wqqkv",
        "headline": "Saldi d'inverno: -30%",
        "body": "Solo questa settimana",
        "media_url": "https://scontent.xx.fbcdn.net/ad.jpg",
        "click_id": "ARAkLkA8rmlFeiCktEJQ",
    }
    assert (first["reply_to_message_id"], first["original_message_id"]) == ("", "")
    assert (reply["reply_to_message_id"], reply["original_message_id"], reply["referral"]) == (
        "wamid.1",
        "",
        None,
    )
    assert (edit["channel_message_id"], edit["original_message_id"], edit["kind"]) == (
        "e",
        "wamid.2",
        "edited",
    )


def test_an_empty_referral_is_none() -> None:
    assert entry(message(1, referral=common_pb2.Referral()))["referral"] is None


def test_the_conversation_keeps_the_first_referral_in_any_order() -> None:
    envelopes = [message(1), message(2, referral=AD), message(3, referral=LINK), message(4)]

    in_order, reversed_ = fold(envelopes), fold(envelopes[::-1])

    assert in_order == reversed_
    assert in_order["referral"] == entry(envelopes[1])["referral"]
    assert [e["reply_to_message_id"] for e in in_order["timeline"]] == ["", "", "", ""]
    assert fold([message(1)])["referral"] is None


def test_an_entry_written_before_referrals_were_kept_leaves_the_conversation_without_one() -> None:
    old = entry(message(1))
    del old["referral"], old["reply_to_message_id"], old["original_message_id"], old["channel_message_id"]
    doc = with_entry(None, "shop", "conv-ctx", old)
    assert doc is not None
    assert doc["referral"] is None
