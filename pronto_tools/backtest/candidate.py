"""A backtest's configurations, read from YAML files: routing's, SLA's, and operators added to the team.

A routing file holds routing's decision settings, named as its environment variables are without the
``PRONTO_ROUTING_`` prefix (``widen_after_s`` for ``PRONTO_ROUTING_WIDEN_AFTER_S``), validated exactly as
routing validates them at start; and, for the backtest only, ``operators``: people added to the recorded
team, each on the shifts of an operator it copies. An SLA file is one shop's policy, the same object the
SLA admin API and ``PRONTO_SLA_POLICIES`` take. A candidate file gives only what changes: it is laid
over what was live (``over``), each setting it gives replacing the live one whole; what was live
leaves out keeps routing's and SLA's defaults. The environment is not read (a variable exported in
the shell must not change a backtest).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pronto_tools.errors import BacktestError
from services.routing.settings import RoutingSettings
from services.routing.shop import Policy as RoutingPolicy
from services.sla.domain.policy import Policy as SlaPolicy
from services.sla.settings import PolicyConfig

# Routing's settings that decide (the others say where it listens and how it reads Kafka).
ROUTING_DECISIONS = (
    "widen_after_s",
    "reply_within_s",
    "handling_time_s",
    "position_every_s",
    "channel_teams",
    "default_shop",
    "shops",
)


class AddedOperator(BaseModel):
    """Someone the shop could hire: on the recorded shifts of ``like``, with their own languages."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    like: str = Field(min_length=1, max_length=200)
    # Language -> proficiency 1-5; none given: the languages of ``like``.
    languages: dict[str, int] | None = None
    display_name: str = ""


@dataclass(frozen=True)
class Routing:
    policy: RoutingPolicy
    # Whether the candidate orders queues by SLA deadlines, and so reads SLA's clocks (as live routing does).
    reads_deadlines: bool
    operators: tuple[AddedOperator, ...] = ()


def read(path: Path) -> dict[str, Any]:
    """A settings file's mapping (an empty file is an empty mapping)."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise BacktestError(f"{path}: not YAML: {' '.join(str(exc).split())}") from exc
    except OSError as exc:
        raise BacktestError(f"{path}: {exc.strerror or exc}") from exc
    if not isinstance(data, dict):
        raise BacktestError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    return data


def over(live: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A candidate: the live settings with those a file gives instead (each replaces its live one whole)."""
    return {**live, **changes}


def routing(data: Mapping[str, Any], source: str = "routing's defaults") -> Routing:
    """Routing as ``data`` (a file's settings) configures it; settings left out keep routing's defaults."""
    settings_data = dict(data)
    operators = settings_data.pop("operators", None) or []
    unknown = sorted(set(settings_data) - set(ROUTING_DECISIONS))
    if unknown:
        known = ", ".join((*ROUTING_DECISIONS, "operators"))
        raise BacktestError(f"{source}: unknown routing settings {unknown}; known: {known}")
    try:
        settings = RoutingSettings(
            _env_prefix="PRONTO_BACKTEST_READS_NO_ENVIRONMENT_",
            **{f"routing_{name}": value for name, value in settings_data.items()},
        )
    except ValidationError as exc:
        raise BacktestError(f"{source}: {_said(exc)}") from exc
    try:
        added = tuple(AddedOperator.model_validate(o) for o in operators)
    except ValidationError as exc:
        raise BacktestError(f"{source}: operators: {_said(exc)}") from exc
    ids = [o.id for o in added]
    if len(set(ids)) != len(ids):
        raise BacktestError(f"{source}: an added operator's id is listed twice")
    return Routing(settings.policy(), settings.reads_deadlines(), added)


def sla(data: Mapping[str, Any], source: str = "SLA's defaults") -> SlaPolicy:
    """The shop's SLA policy as ``data`` (the admin API's policy object) gives it."""
    try:
        return PolicyConfig.model_validate(dict(data)).policy()
    except ValidationError as exc:
        raise BacktestError(f"{source}: {_said(exc)}") from exc


def _said(exc: ValidationError) -> str:
    """pydantic's errors, one after another: where, and what is wrong (the refused value left out),
    in the names the file uses."""
    said = []
    for error in exc.errors():
        where = ".".join(str(p).removeprefix("routing_") for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ").replace("routing_", "")
        said.append(f"{where}: {message}" if where else message)
    return "; ".join(said)


def dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


__all__ = ["AddedOperator", "Routing", "dump", "over", "read", "routing", "sla"]
