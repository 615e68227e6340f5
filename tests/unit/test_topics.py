"""The topics Pronto uses: one place, one naming scheme."""

from __future__ import annotations

import re

import pytest

from pronto import topics
from pronto_tools.broker.provision import config_changes


def test_topic_names_are_unique() -> None:
    names = [spec.name for spec in topics.ALL]

    assert len(names) == len(set(names)) == 11


def test_every_topic_is_a_versioned_support_topic() -> None:
    for spec in topics.ALL:
        assert re.fullmatch(r"support\.[a-z]+\.v1", spec.name), spec.name


def test_every_topic_has_partitions_a_key_and_keeps_nothing_forever() -> None:
    for spec in topics.ALL:
        assert spec.partitions >= 1, spec.name
        assert spec.key, spec.name
        if spec is topics.SNAPSHOTS:
            # Compaction keeps each service's two newest snapshots per partition, nothing older.
            assert spec.configs["cleanup.policy"] == "compact"
            assert "retention.ms" not in spec.configs
            continue
        assert spec.configs["cleanup.policy"] == "delete", spec.name
        assert int(spec.configs["retention.ms"]) >= topics.DAY_MS, spec.name


def test_snapshots_have_a_partition_for_every_input_partition() -> None:
    for spec in (topics.ROUTING, topics.CLOCKS, topics.NOTIFY):
        assert spec.partitions == topics.SNAPSHOTS.partitions, spec.name


def test_the_module_constants_are_the_topics_listed() -> None:
    constants = [topics.INBOUND, topics.OUTBOUND, topics.OPERATORS, topics.ROUTING, topics.CONVERSATIONS]
    constants += [topics.CLOCKS]
    constants += [topics.SLA, topics.NOTIFY, topics.NOTIFICATIONS, topics.SNAPSHOTS, topics.DEADLETTER]

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


def test_only_the_settings_that_differ_are_changed() -> None:
    wanted = topics.ROUTING.configs
    assert config_changes(wanted, dict(wanted)) == {}
    assert config_changes(wanted, {**wanted, "retention.ms": "-1"}) == {
        "retention.ms": wanted["retention.ms"]
    }
    assert config_changes(wanted, {}) == wanted
