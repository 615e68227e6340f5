"""Event ids derived from what identifies a message: every retry of it gets the same id."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pronto.event_ids import derived, from_channel_message, from_idempotency_key


def test_an_idempotency_key_gives_the_same_id_every_time() -> None:
    first = from_idempotency_key("shop-a", "message", "order-42-retry")

    assert from_idempotency_key("shop-a", "message", "order-42-retry") == first
    assert uuid.UUID(first).version == 5
    assert str(uuid.UUID(first)) == first


def test_a_channel_message_id_gives_the_same_id_every_time() -> None:
    first = from_channel_message("shop-a", "whatsapp", "wamid.HBgLMzkzNDc")

    assert from_channel_message("shop-a", "whatsapp", "wamid.HBgLMzkzNDc") == first
    assert uuid.UUID(first).version == 5


def test_ids_are_stable_across_releases() -> None:
    # Ids are stored in Kafka and compared by processors: the derivation must never change.
    assert from_idempotency_key("shop-a", "message", "k-1") == str(
        uuid.uuid5(uuid.UUID("6f1d3c0e-8a57-4a8e-9c1b-2d5f0e7a9b31"), "key\x1fshop-a\x1fmessage\x1fk-1")
    )
    assert from_channel_message("shop-a", "email", "m-1") == str(
        uuid.uuid5(uuid.UUID("6f1d3c0e-8a57-4a8e-9c1b-2d5f0e7a9b31"), "channel\x1fshop-a\x1femail\x1fm-1")
    )


@pytest.mark.parametrize(
    "other",
    [("shop-b", "message", "k-1"), ("shop-a", "reply", "k-1"), ("shop-a", "message", "k-2")],
    ids=["tenant", "kind", "key"],
)
def test_an_idempotency_key_id_differs_by_tenant_kind_and_key(other: tuple[str, str, str]) -> None:
    assert from_idempotency_key(*other) != from_idempotency_key("shop-a", "message", "k-1")


@pytest.mark.parametrize(
    "other",
    [("shop-b", "email", "m-1"), ("shop-a", "web_chat", "m-1"), ("shop-a", "email", "m-2")],
    ids=["tenant", "channel", "message id"],
)
def test_a_channel_message_id_differs_by_tenant_channel_and_message(other: tuple[str, str, str]) -> None:
    assert from_channel_message(*other) != from_channel_message("shop-a", "email", "m-1")


def test_fields_do_not_run_into_each_other() -> None:
    assert from_idempotency_key("shop-a", "message", "k-1") != from_idempotency_key(
        "shop-a", "messag", "ek-1"
    )
    assert from_channel_message("shop", "a-email", "m") != from_channel_message("shop-a", "email", "m")


@settings(database=None)
@given(tenant=st.text(), kind_or_channel=st.text(), key=st.text())
def test_the_two_derivations_never_collide_for_the_same_strings(
    tenant: str, kind_or_channel: str, key: str
) -> None:
    assert from_idempotency_key(tenant, kind_or_channel, key) != from_channel_message(
        tenant, kind_or_channel, key
    )


@settings(database=None)
@given(a=st.tuples(st.text(), st.text(), st.text()), b=st.tuples(st.text(), st.text(), st.text()))
def test_different_separator_free_inputs_give_different_ids(
    a: tuple[str, str, str], b: tuple[str, str, str]
) -> None:
    assume(a != b)
    assume(not any("\x1f" in part for part in (*a, *b)))
    assert from_idempotency_key(*a) != from_idempotency_key(*b)
    assert from_channel_message(*a) != from_channel_message(*b)


def test_processors_reacting_to_the_same_event_derive_different_ids() -> None:
    """Found by the demo: notify took SLA's first event after a message for a copy of routing's."""
    assert derived("sla", "m-1", 0) != derived("routing", "m-1", 0)
    assert derived("sla", "m-1", 0) == derived("sla", "m-1", 0)
