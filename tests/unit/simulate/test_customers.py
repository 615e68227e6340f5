"""The simulator's customers: the mix, languages and repetition it was asked for, from a seed."""

from __future__ import annotations

from collections import Counter

import pytest

from pronto_tools.simulate.customers import LANGUAGES, SAMPLES, Customers, parse_mix
from pronto_tools.simulate.team import roster


def test_the_same_seed_gives_the_same_messages_and_another_seed_others() -> None:
    def texts(seed: int) -> list[tuple[str, str, str]]:
        customers = Customers(seed)
        return [
            (w.customer.id, w.customer.channel, w.message.text)
            for w in (customers.next(1_800_000_000.0) for _ in range(50))
        ]

    assert texts(7) == texts(7)
    assert texts(7) != texts(8)


def test_channels_follow_the_mix_and_a_customer_keeps_channel_and_language() -> None:
    customers = Customers(3, mix={"telegram": 3, "email": 1}, languages=["pl", "de"])
    written = [customers.next(0.0) for _ in range(2_000)]
    channels = Counter(w.customer.channel for w in written)
    assert set(channels) == {"telegram", "email"}
    assert 2.4 < channels["telegram"] / channels["email"] < 3.8
    by_customer: dict[str, set[tuple[str, str]]] = {}
    for w in written:
        by_customer.setdefault(w.customer.id, set()).add((w.customer.channel, w.customer.language))
        assert (w.customer.language, w.message.text, w.topic) in SAMPLES
    assert all(len(kinds) == 1 for kinds in by_customer.values())
    assert {lang for kinds in by_customer.values() for _, lang in kinds} == {"pl", "de"}
    # Some customers write again: fewer customers than messages, but most are new.
    assert 0.6 < len(by_customer) / len(written) < 0.8
    assert len({w.message.message_id for w in written}) == len(written)


def test_grpc_events_carry_the_customer_and_their_language() -> None:
    written = Customers(1, mix={"whatsapp": 1}).next(0.0)
    event = written.as_event()
    assert event.sender.display_name == written.customer.name
    assert event.language == written.customer.language
    assert event.channel_message_id == written.message.message_id
    assert event.conversation_id == f"sim-{written.customer.id}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [("fax=1", "unknown channel 'fax'"), ("email=-1", "negative"), ("email=0", "positive"), ("", "positive")],
)
def test_a_wrong_mix_is_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_mix(text)


def test_unknown_languages_are_refused() -> None:
    with pytest.raises(ValueError, match="languages must be among"):
        Customers(1, languages=["fr"])
    assert parse_mix("web_chat,email=2") == {"web_chat": 1.0, "email": 2.0}
    assert set(LANGUAGES) == {"it", "pl", "en", "es", "de"}


def test_a_roster_larger_than_the_members_numbers_the_second_round() -> None:
    team = roster(10, capacity=4)
    ids = [p.operator_id for p in team]
    assert len(set(ids)) == 10
    assert ids[8:] == ["giulia-2", "marco-2"]
    assert all(c.max_concurrent == 4 for p in team for c in p.capacities)
    assert len(team[0].capacities) == 10


def test_another_run_with_the_same_seed_writes_new_messages_with_the_same_words() -> None:
    first, second = Customers(5, run="a"), Customers(5, run="b")
    a, b = [first.next(0.0) for _ in range(20)], [second.next(0.0) for _ in range(20)]
    assert [w.message.text for w in a] == [w.message.text for w in b]
    assert not {w.message.message_id for w in a} & {w.message.message_id for w in b}


def test_a_team_prefix_keeps_the_ids_apart() -> None:
    assert [p.operator_id for p in roster(2, capacity=1, prefix="sim-")] == ["sim-giulia", "sim-marco"]
