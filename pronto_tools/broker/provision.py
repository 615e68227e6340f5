"""Create every Pronto topic, idempotently, with the kafka-python admin client."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from pronto import topics as topic_specs
from pronto.topics import TopicSpec
from pronto_tools.errors import ProvisioningError

# Tansu answers newer Metadata versions with authorised-operation bits that
# kafka-python 2.3 cannot parse; the requests of Kafka 2.0 carry all we need.
API_VERSION = (2, 0, 0)


@dataclass(frozen=True)
class ProvisionReport:
    created: list[str]
    existing: list[str]
    # Existing topics whose configuration (retention, cleanup policy) was brought to the spec.
    reconfigured: list[str] = field(default_factory=list)


def config_changes(wanted: dict[str, str], current: dict[str, str]) -> dict[str, str]:
    """The settings of ``wanted`` that ``current`` (a topic's configuration as described) lacks or
    holds with another value: empty when the topic already matches, so a second run changes nothing."""
    return {name: value for name, value in wanted.items() if current.get(name) != value}


def provision(
    bootstrap_servers: str,
    specs: Iterable[TopicSpec] = topic_specs.ALL,
    replication_factor: int = 1,
    log: Callable[[str], None] = lambda _line: None,
    api_version: tuple[int, ...] | None = API_VERSION,
) -> ProvisionReport:
    """Create the topics that are missing; check the partition count of those that exist.

    A topic with a different partition count is an error, not something to
    "repair": adding partitions would move keys and break per-conversation order.
    ``api_version`` None lets the client ask the broker (a real Kafka); the default suits Tansu.
    """
    specs = list(specs)
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap_servers, client_id="pronto-provision", api_version=api_version
    )
    try:
        existing = _partition_counts(admin, [s.name for s in specs])
        for spec in specs:
            found = existing.get(spec.name)
            if found is not None and found != spec.partitions:
                raise ProvisioningError(
                    f"topic {spec.name} has {found} partitions, expected {spec.partitions}; "
                    "changing the count would move keys between partitions, so fix it deliberately"
                )
        missing = [s for s in specs if s.name not in existing]
        created = []
        for spec in missing:
            try:
                admin.create_topics(
                    [NewTopic(spec.name, spec.partitions, replication_factor, topic_configs=spec.configs)]
                )
                created.append(spec.name)
                log(f"created {spec.name} ({spec.partitions} partitions, key: {spec.key})")
            except TopicAlreadyExistsError:
                log(f"{spec.name} was created concurrently")
        for name in existing:
            log(f"exists  {name} ({existing[name]} partitions)")
        reconfigured = _reconfigure(admin, [s for s in specs if s.name in existing], log)
        return ProvisionReport(created=created, existing=sorted(existing), reconfigured=reconfigured)
    finally:
        admin.close()


def _reconfigure(admin: KafkaAdminClient, specs: list[TopicSpec], log: Callable[[str], None]) -> list[str]:
    """Bring existing topics' configuration to their spec (retention above all: topics created when
    they kept everything get a finite retention). Only topics that differ are altered."""
    if not specs:
        return []
    described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, s.name) for s in specs])
    current: dict[str, dict[str, str]] = {}
    for response in described:
        for resource in response.resources:
            _error, _message, _type, name, entries = resource[:5]
            current[name] = {entry[0]: entry[1] for entry in entries}
    reconfigured = []
    for spec in specs:
        changes = config_changes(spec.configs, current.get(spec.name, {}))
        if not changes:
            continue
        try:
            # AlterConfigs sets a topic's whole dynamic configuration: exactly the spec's.
            admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, spec.name, configs=spec.configs)])
        except Exception as exc:
            raise ProvisioningError(
                f"topic {spec.name} should have {changes} but the broker refused to change it: {exc!r}"
            ) from exc
        reconfigured.append(spec.name)
        log(f"changed {spec.name}: {', '.join(f'{k}={v}' for k, v in sorted(changes.items()))}")
    return reconfigured


def _partition_counts(admin: KafkaAdminClient, names: list[str]) -> dict[str, int]:
    present = set(admin.list_topics()) & set(names)
    if not present:
        return {}
    return {t["topic"]: len(t["partitions"]) for t in admin.describe_topics(sorted(present))}
