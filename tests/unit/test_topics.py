"""The topics Pronto uses: one place, one naming scheme."""

from __future__ import annotations

import re

import pytest

from pronto import topics


def test_topic_names_are_unique() -> None:
    names = [spec.name for spec in topics.ALL]

    assert len(names) == len(set(names)) == 10


def test_every_topic_is_a_versioned_support_topic() -> None:
    for spec in topics.ALL:
        assert re.fullmatch(r"support\.[a-z]+\.v1", spec.name), spec.name


def test_every_topic_has_partitions_a_key_and_a_retention() -> None:
    for spec in topics.ALL:
        assert spec.partitions >= 1, spec.name
        assert spec.key, spec.name
        retention = int(spec.configs["retention.ms"])
        # Routing, SLA and notify replay their input from the start: it keeps everything.
        assert (
            retention == -1
            if spec in (topics.ROUTING, topics.CLOCKS, topics.NOTIFY)
            else retention >= topics.DAY_MS
        ), spec.name
        assert spec.configs["cleanup.policy"] == "delete", spec.name


def test_the_module_constants_are_the_topics_listed() -> None:
    constants = [topics.INBOUND, topics.OUTBOUND, topics.OPERATORS, topics.ROUTING, topics.CONVERSATIONS]
    constants += [topics.CLOCKS]
    constants += [topics.SLA, topics.NOTIFY, topics.NOTIFICATIONS, topics.DEADLETTER]

    assert list(topics.ALL) == constants
    assert topics.INBOUND.name == "support.inbound.v1"
    assert topics.OUTBOUND.name == "support.outbound.v1"
    assert topics.OPERATORS.name == "support.operators.v1"


@pytest.mark.parametrize("spec", topics.ALL, ids=lambda spec: spec.name)
def test_a_topic_is_found_by_its_name(spec: topics.TopicSpec) -> None:
    assert topics.by_name(spec.name) is spec


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(KeyError) as unknown:
        topics.by_name("support.inbound.v2")

    text = str(unknown.value)
    assert "unknown topic 'support.inbound.v2'" in text
    for spec in topics.ALL:
        assert spec.name in text
