"""A widening step nobody in the team could serve is skipped at once (issue #20, item 5).

Before, a Polish chat in a shop where nobody speaks Polish waited out the first two steps (2 and
5 minutes) before English speakers were offered it, while they sat online with room.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.routing.domain.decision import Assign, Level, Wait, skilled
from services.routing.domain.model import Operator, Status
from services.routing.domain.tenant import Ladder, TenantRouting, Widened
from tests.unit.routing.builders import T0, a_conversation, an_operator
from tests.unit.routing.tenant_shops import a_shop

LADDER = Ladder()


def test_a_language_nobody_speaks_goes_to_the_fallback_language_at_once() -> None:
    shop = a_shop(an_operator("ana", languages={"it": 5, "en": 4}))

    outputs = shop.arrive(a_conversation("c1", language="pl"), T0, LADDER)

    assert outputs[0] == Widened(
        "c1", Level.FALLBACK_LANGUAGE, "nobody in the team could serve it at EXACT to ANY_TOPIC: skipped"
    )
    [assign] = outputs[1:]
    assert isinstance(assign, Assign)
    assert assign.operator_id == "ana"
    assert shop.assigned["c1"].conversation.level == Level.FALLBACK_LANGUAGE


def test_a_step_someone_could_serve_is_waited_out_even_while_they_are_offline() -> None:
    shop = a_shop(
        an_operator("ana", languages={"it": 5, "en": 4}),
        an_operator("ola", languages={"pl": 5}, status=Status.OFFLINE),
    )

    [wait] = shop.arrive(a_conversation("c1", language="pl"), T0, LADDER)

    assert isinstance(wait, Wait)
    assert shop.waiting["c1"].level == Level.EXACT


def test_a_channel_nobody_handles_waits_at_the_last_step() -> None:
    shop = a_shop(an_operator("ana", capacities={"web_chat": 2}))

    outputs = shop.arrive(a_conversation("c1", channel="email"), T0, LADDER)

    assert [type(o) for o in outputs] == [Widened, Wait]
    assert shop.waiting["c1"].level == Level.ANY_TEAM
    assert shop.tick(T0 + LADDER.after[-1], LADDER, {}) == []  # nothing left to widen


def test_without_a_ladder_arrivals_are_decided_as_before() -> None:
    shop = a_shop(an_operator("ana", languages={"it": 5, "en": 4}))
    [wait] = shop.arrive(a_conversation("c1", language="pl"), T0)
    assert isinstance(wait, Wait)


operators = st.lists(
    st.builds(
        lambda n, languages, topics, chat, status: an_operator(
            f"op{n}",
            languages=dict.fromkeys(languages, 5),
            topics=topics,
            capacities={"web_chat": chat, "email": 3},
            status=status,
            team=("front", "back")[n % 2],
        ),
        st.integers(0, 50),
        st.sets(st.sampled_from(["it", "pl", "en"]), min_size=1),
        st.sets(st.sampled_from(["billing", "returns"]), max_size=1),
        st.integers(0, 2),
        st.sampled_from(list(Status)),
    ),
    max_size=6,
    unique_by=lambda o: o.id,
)


@given(
    operators,
    st.sampled_from(["it", "pl", "de"]),
    st.sampled_from(["billing", "returns"]),
    st.sampled_from(["web_chat", "email", "phone"]),
    st.sampled_from(["", "front"]),
)
def test_only_steps_nobody_could_serve_are_skipped(
    roster: list[Operator], language: str, topic: str, channel: str, team: str
) -> None:
    shop = TenantRouting()
    for operator in roster:
        shop.operator_changed(operator, T0)
    conversation = a_conversation("c1", language=language, topics=(topic,), channel=channel, team=team)

    shop.arrive(conversation, T0, LADDER)

    placed = shop.waiting.get("c1") or shop.assigned["c1"].conversation
    for level in range(Level.EXACT, placed.level):
        assert not any(skilled(o, conversation, Level(level)) for o in roster), level
    if placed.level < Level.ANY_TEAM:
        assert any(skilled(o, conversation, Level(placed.level)) for o in roster)
