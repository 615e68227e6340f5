"""The deliverer's bookkeeping that needs no broker: offsets read in order, a gap read again once."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from services.notify.delivery.deliverer import Deliverer, PartitionState
from services.notify.metrics import NotifyMetrics
from services.notify.settings import NotifySettings


def deliverer() -> Deliverer:
    d = Deliverer(NotifySettings(), NotifyMetrics(CollectorRegistry()), "/pronto/notify/test")
    d.partitions[0] = PartitionState(fence="f")
    return d


def test_consecutive_offsets_are_in_order_from_wherever_reading_starts() -> None:
    d = deliverer()
    assert all(d._in_order(0, offset) for offset in (40, 41, 42))


def test_a_gap_is_read_again_once_then_taken_as_real() -> None:
    d = deliverer()
    assert d._in_order(0, 10)
    assert not d._in_order(0, 13)  # 11 and 12 were not read: read again from 11
    assert d.partitions[0].next_offset == 11
    assert d._in_order(0, 13)  # the same gap again: it is real
    assert d._in_order(0, 14)


def test_records_read_again_after_a_seek_are_in_order() -> None:
    d = deliverer()
    assert d._in_order(0, 10)
    assert d._in_order(0, 11)
    assert d._in_order(0, 5)  # seeking back re-reads; the fold of requests is idempotent
    assert d.partitions[0].next_offset == 12
