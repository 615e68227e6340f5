"""What may wait for a digest, whose limit and quiet hours, from a shop's settings; the digest itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from pronto.envelope import Envelope
from pronto.v1 import events_pb2
from services.notify.delivery import digests
from services.notify.delivery.messages import message
from services.notify.delivery.partition_state import Request
from services.notify.delivery.quiet_hours import QuietHours
from services.notify.domain.gate import Limit
from services.notify.settings import Contact, NotifySettings, ShopConfig

MONDAY_NOON = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
MONDAY_NIGHT = datetime(2024, 5, 6, 23, 0, tzinfo=UTC)
SUNDAY_NOON = datetime(2024, 5, 5, 12, 0, tzinfo=UTC)


def settings() -> NotifySettings:
    acme = ShopConfig(
        limited_kinds={"breach"},
        limit_count=2,
        limit_window_s=60,
        staff_hours={"mon": ["08:00-20:00"]},
        operators={"ann": Contact(email="ann@acme.test", hours={"sun": ["10:00-14:00"]})},
        operator_default=Contact(email="desk@acme.test"),
        supervisors=Contact(email="team@acme.test"),
    )
    return NotifySettings(notify_shops={"acme": acme})


def request(
    notification_id: str,
    kind: str = "breach",
    recipient_kind: events_pb2.RecipientKind = events_pb2.RECIPIENT_KIND_SUPERVISOR,
    tenant: str = "acme",
    text: str = "",
) -> Request:
    payload = events_pb2.NotificationRequested(
        notification_id=notification_id, kind=kind, recipient_kind=recipient_kind, text=text, recipient="team"
    )
    event = Envelope(f"e-{notification_id}", "/test", tenant, payload, MONDAY_NOON)
    return Request(0, 0, f"{tenant}/supervisor/team", event, payload)


# ---------------------------------------------------------------- what may wait


def test_only_the_kinds_the_shop_limits_may_wait_for_a_digest() -> None:
    s = settings()
    assert digests.gated(s, request("n1", kind="breach"))
    assert not digests.gated(s, request("n2", kind="predicted_breach"))  # acme limits breaches only
    assert digests.gated(s, request("n3", kind="predicted_breach", tenant="other"))  # the default shop's


def test_what_a_customer_is_told_never_waits() -> None:
    customer = request("n1", kind="breach", recipient_kind=events_pb2.RECIPIENT_KIND_CUSTOMER)
    assert not digests.gated(settings(), customer)


def test_a_recipients_limit_is_their_shops() -> None:
    s = settings()
    assert digests.limit(s, "acme/supervisor/team") == Limit(2, timedelta(seconds=60))
    assert digests.limit(s, "other/operator/x") == Limit(5, timedelta(minutes=10))


# ---------------------------------------------------------------- quiet hours


def test_an_operator_with_own_hours_is_awake_only_in_them() -> None:
    hours = QuietHours(settings())
    assert hours.awake("acme/operator/ann", SUNDAY_NOON)
    assert not hours.awake("acme/operator/ann", MONDAY_NOON)


def test_staff_without_own_hours_keep_the_shops_staff_hours() -> None:
    hours = QuietHours(settings())
    for key in ("acme/supervisor/team", "acme/operator/bob"):  # bob: the default contact
        assert hours.awake(key, MONDAY_NOON)
        assert not hours.awake(key, MONDAY_NIGHT)
        assert not hours.awake(key, SUNDAY_NOON)


def test_a_shop_without_hours_may_tell_anyone_anything_at_any_time() -> None:
    hours = QuietHours(settings())
    assert hours.awake("other/supervisor/team", MONDAY_NIGHT)
    assert hours.awake("other", SUNDAY_NOON)  # a key naming only the tenant


# ---------------------------------------------------------------- the message


def test_one_request_is_sent_as_it_was_asked_for() -> None:
    r = request("n1", text="Conversation c1 breached its SLA")
    r.request.customer_wrote_at.CopyFrom(Timestamp(seconds=int(MONDAY_NOON.timestamp()) - 60))
    r.request.thread.references.extend(["<a@x>", "<b@x>"])
    out = message([r], MONDAY_NIGHT)
    assert (out.id, out.kind, out.text) == ("n1", "breach", "Conversation c1 breached its SLA")
    assert out.created_at == MONDAY_NOON  # the request's time, not the sending's
    assert out.customer_wrote_at == MONDAY_NOON - timedelta(minutes=1)
    assert out.thread_references == ("<a@x>", "<b@x>")
    assert out.recipient_kind == "supervisor"
    assert out.covers == ()


def test_several_requests_go_as_one_digest_listing_each() -> None:
    requests = [request("n1", text="first"), request("n2", text="second")]
    out = message(requests, MONDAY_NIGHT)
    assert out.kind == "digest"
    assert out.covers == ("n1", "n2")
    assert out.text == "2 notifications while you were away or busy:\n- first\n- second"
    assert out.created_at == MONDAY_NIGHT
    assert out.conversation_id == ""
    assert out.id not in ("n1", "n2")
    assert message(list(reversed(requests)), MONDAY_NIGHT).id != out.id
    assert message(requests, MONDAY_NOON).id == out.id  # derived from what it covers only
