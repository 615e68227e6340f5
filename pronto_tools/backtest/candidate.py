"""A backtest's configurations, read from YAML files: routing's, SLA's, and operators added to the team.

A routing file holds routing's decision settings, named as its environment variables are without the
``PRONTO_ROUTING_`` prefix (``widen_after_s`` for ``PRONTO_ROUTING_WIDEN_AFTER_S``), validated exactly as
routing validates them at start; and, for the backtest only, ``operators``: people added to the recorded
team, each on the shifts of an operator it copies. An SLA file is one shop's policy, the same object the
SLA admin API and ``PRONTO_SLA_POLICIES`` take. Settings a file leaves out keep routing's and SLA's
defaults; the environment is not read (a variable exported in the shell must not change a backtest).
"""

from __future__ import annotations

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


def _mapping(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise BacktestError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise BacktestError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    return data


def routing(path: Path | None) -> Routing:
    """Routing as ``path`` configures it (None: routing's defaults)."""
    data = _mapping(path) if path is not None else {}
    operators = data.pop("operators", None) or []
    unknown = sorted(set(data) - set(ROUTING_DECISIONS))
    if unknown:
        raise BacktestError(
            f"{path}: unknown routing settings {unknown}; known: {', '.join(ROUTING_DECISIONS)}"
        )
    try:
        settings = RoutingSettings(
            _env_prefix="PRONTO_BACKTEST_READS_NO_ENVIRONMENT_",
            **{f"routing_{name}": value for name, value in data.items()},
        )
    except ValidationError as exc:
        raise BacktestError(f"{path}: {_said(exc)}") from exc
    try:
        added = tuple(AddedOperator.model_validate(o) for o in operators)
    except ValidationError as exc:
        raise BacktestError(f"{path}: operators: {_said(exc)}") from exc
    ids = [o.id for o in added]
    if len(set(ids)) != len(ids):
        raise BacktestError(f"{path}: an added operator's id is listed twice")
    return Routing(settings.policy(), settings.reads_deadlines(), added)


def sla(path: Path | None, recorded: dict[str, Any] | None = None) -> tuple[SlaPolicy, str]:
    """The shop's SLA policy from ``path``, else the last one the history records (set through the
    admin API), else SLA's defaults; with where it came from, for the report."""
    if path is not None:
        data, source = _mapping(path), str(path)
    elif recorded is not None:
        data, source = recorded, "the last policy the history records"
    else:
        data, source = {}, "SLA's defaults"
    try:
        return PolicyConfig.model_validate(data).policy(), source
    except ValidationError as exc:
        raise BacktestError(f"{source}: {_said(exc)}") from exc


def _said(exc: ValidationError) -> str:
    """pydantic's errors as one line each: where, and what is wrong (the refused value left out)."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors())


def dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


__all__ = ["AddedOperator", "Routing", "dump", "routing", "sla"]
