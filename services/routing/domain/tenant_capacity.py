"""The room each operator and team of one shop has, as ``TenantRouting`` keeps and indexes it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from services.routing.domain.decision import Rules
from services.routing.domain.index import Index
from services.routing.domain.model import Conversation, Operator, Status


class Capacity:
    """``TenantRouting``'s operators with the shop's limits, its ranking index and teams' counts."""

    if TYPE_CHECKING:  # the fields of ``TenantRouting`` these methods keep
        operators: dict[str, Operator]
        speakers: dict[str, dict[str, None]]
        rules: Rules
        index: Index
        team_open: dict[str, int]

    def _rebuild(self) -> None:
        rules = vars(self).get("rules")
        rules = rules if isinstance(rules, Rules) else Rules()
        self.index = Index(rules.fairness)
        self.team_open = {}
        for operator in self.operators.values():
            if operator.team:
                self.team_open[operator.team] = self.team_open.get(operator.team, 0) + sum(
                    operator.load.values()
                )
        for operator in list(self.operators.values()):
            operator = self._limited(operator)
            self.operators[operator.id] = operator
            self.index.put(operator)

    def _index(self, previous: Operator | None, operator: Operator) -> None:
        for language in previous.languages if previous else ():
            self.speakers.get(language, {}).pop(operator.id, None)
        for language in operator.languages:
            self.speakers.setdefault(language, {})[operator.id] = None

    def _hold(self, conversation: Conversation, since: datetime) -> datetime | None:
        """Until when an arriving conversation is offered only to its previous operator: while the
        shop holds for them and they are online (TaskRouter's preferred worker step, skipped when
        that worker is not available)."""
        rules, previous = self.rules, self.operators.get(conversation.last_operator_id)
        if not (rules.sticky and rules.sticky_hold and previous and previous.status is Status.ONLINE):
            return None
        return since + rules.sticky_hold

    def _set(self, operator: Operator) -> None:
        previous = self.operators.get(operator.id)
        operator = self._limited(operator)
        self.operators[operator.id] = operator
        self.index.put(operator)
        self._count_team(previous, operator)

    def _limited(self, operator: Operator) -> Operator:
        """``operator`` with the shop's limits beyond their own capacity (``Rules``)."""
        rules = self.rules
        limits = (
            rules.cap_for(operator.id),
            rules.channel_weights,
            self._team_full(operator.team),
            rules.away_channels,
        )
        if (operator.cap, operator.weights, operator.team_full, operator.away_serves) == limits:
            return operator
        return replace(operator, cap=limits[0], weights=limits[1], team_full=limits[2], away_serves=limits[3])

    def _team_full(self, team: str) -> bool:
        limit = self.rules.team_limits.get(team) if team else None
        return limit is not None and self.team_open.get(team, 0) >= limit

    def _count_team(self, previous: Operator | None, operator: Operator) -> None:
        """Keep each team's open conversations; a team crossing its limit re-lists its members, so
        that none of them is offered more (or all of them are again) at once."""
        teams = {operator.team} | ({previous.team} if previous else set())
        if previous is not None and previous.team:
            self.team_open[previous.team] -= sum(previous.load.values())
        if operator.team:
            self.team_open[operator.team] = self.team_open.get(operator.team, 0) + sum(operator.load.values())
        for team in teams - {""}:
            if team not in self.rules.team_limits:
                continue
            full = self._team_full(team)
            for member in list(self.operators.values()):
                if member.team == team and member.team_full != full:
                    member = replace(member, team_full=full)
                    self.operators[member.id] = member
                    self.index.put(member)
