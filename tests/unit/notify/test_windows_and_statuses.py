"""Reply windows and the delivery state machine: pure rules, checked across their boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pronto.v1 import common_pb2, events_pb2
from services.notify.domain import statuses
from services.notify.domain.statuses import Deliveries, Tracked
from services.notify.domain.windows import Messaging, meta_messaging, whatsapp_window_open

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ALL = [statuses.SENT, statuses.DELIVERED, statuses.READ, statuses.FAILED]


@given(st.integers(min_value=0, max_value=10 * 24 * 3600))
def test_windows_by_hours_since_the_customer_wrote(seconds: int) -> None:
    wrote = NOW - timedelta(seconds=seconds)
    assert whatsapp_window_open(wrote, NOW) == (seconds < 24 * 3600)
    expected = (
        Messaging.RESPONSE
        if seconds < 24 * 3600
        else Messaging.HUMAN_AGENT
        if seconds < 7 * 24 * 3600
        else Messaging.CLOSED
    )
    assert meta_messaging(wrote, NOW, human_agent=True) is expected
    assert meta_messaging(wrote, NOW, human_agent=False) is (
        Messaging.RESPONSE if seconds < 24 * 3600 else Messaging.CLOSED
    )


def test_an_unknown_last_message_is_taken_as_inside_the_window() -> None:
    assert whatsapp_window_open(None, NOW)
    assert meta_messaging(None, NOW, human_agent=False) is Messaging.RESPONSE


@given(st.lists(st.sampled_from(ALL), max_size=8))
def test_a_status_only_moves_forward_and_each_comes_once(reports: list[int]) -> None:
    current: int = statuses.SENT
    seen: list[int] = []
    for report in reports:
        if statuses.advances(current, report):
            current = report
            seen.append(report)
    assert len(seen) == len(set(seen))
    order = [s for s in (statuses.DELIVERED, statuses.READ) if s in seen]
    assert seen[: len(order)] == order or statuses.FAILED in seen
    if statuses.READ in seen:
        assert statuses.FAILED not in seen[seen.index(statuses.READ) :]


def test_reports_find_their_deliveries() -> None:
    deliveries = Deliveries()
    first = Tracked("n1", "c1", "facebook", "psid", "m_1", NOW)
    second = Tracked("n2", "c1", "facebook", "psid", "m_2", NOW + timedelta(seconds=10))
    deliveries.sent(first)
    deliveries.sent(second)

    def report(**fields: object) -> events_pb2.DeliveryStatusReported:
        return events_pb2.DeliveryStatusReported(
            channel=common_pb2.CHANNEL_FACEBOOK,
            recipient="psid",
            **fields,  # type: ignore[arg-type]
        )

    assert deliveries.matching(report(platform_message_id="m_2")) == [second]
    assert deliveries.matching(report(notification_id="n1")) == [first]
    assert deliveries.matching(report(platform_message_id="m_unknown")) == []
    read = report(status=statuses.READ)
    # Meta's watermark is its own time of the message, a little before ours (the answer's).
    read.up_to.FromDatetime(NOW - timedelta(seconds=1))
    assert deliveries.matching(read) == [first]
    read.up_to.FromDatetime(NOW + timedelta(seconds=20))
    assert deliveries.matching(read) == [first, second]


def test_a_template_sent_after_the_text_is_told_apart_by_its_platform_id() -> None:
    deliveries = Deliveries()
    text = Tracked("n1", "c1", "whatsapp", "39333", "wamid.TEXT", NOW, statuses.FAILED)
    deliveries.sent(text)
    template = Tracked("n1", "c1", "whatsapp", "39333", "wamid.TEMPLATE", NOW + timedelta(seconds=2))
    deliveries.sent(template)

    def report(wamid: str) -> events_pb2.DeliveryStatusReported:
        return events_pb2.DeliveryStatusReported(
            channel=common_pb2.CHANNEL_WHATSAPP,
            recipient="39333",
            platform_message_id=wamid,
            notification_id="n1",
        )

    assert deliveries.matching(report("wamid.TEMPLATE")) == [template]
    assert deliveries.matching(report("wamid.TEXT")) == [text]
