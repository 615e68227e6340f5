"""Transfers (issue #20): an operator hands a conversation on, or a supervisor moves it.

A transfer is a human decision, so it is not re-ranked: a named colleague gets the conversation if
they are online and have room on its channel (their capacity, the shop's cap and their team's
limit), whatever their skills; a team or the shop's queue gets it first in line, and the operator
who handed it on is not offered it back. Only routing knows every operator's load, so only routing
can say whether a colleague has room: the request is checked here, against the state every other
decision uses, and a refusal changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.routing.domain.model import Conversation, Operator


@dataclass(frozen=True)
class Transfer:
    conversation_id: str
    # Who asks: the holder, or anyone when ``by_supervisor``.
    by: str
    by_supervisor: bool = False
    # A named colleague, a team's queue, or (both empty) the shop's queue.
    to_operator: str = ""
    to_team: str = ""
    reason: str = ""
    # Supervisors only: the colleague gets it beyond their capacity and limits.
    override: bool = False
    # The request's event id, echoed on what it causes so that its caller can find the answer.
    request_id: str = ""

    @property
    def kind(self) -> str:
        if self.to_operator:
            return f"to {self.to_operator}"
        return f"to team {self.to_team}" if self.to_team else "to the queue"


@dataclass(frozen=True)
class TransferRefused:
    conversation_id: str
    reason: str
    request_id: str = ""


def refused(
    transfer: Transfer,
    holder: str | None,
    conversation: Conversation | None,
    operators: dict[str, Operator],
) -> str:
    """Why ``transfer`` cannot be made, or "" when it can. ``holder``: who has the conversation
    now (None while it waits in the queue); ``conversation``: None when it is not open here."""
    if transfer.to_operator and transfer.to_team:
        return "name a colleague or a team, not both"
    if transfer.override and not transfer.by_supervisor:
        return "only a supervisor may override a colleague's capacity"
    if conversation is None:
        return f"conversation {transfer.conversation_id} is not open"
    if not transfer.by_supervisor and holder != transfer.by:
        held = f"is held by {holder}" if holder else "waits in the queue"
        return f"it {held}: only its operator or a supervisor can transfer it"
    if transfer.to_team and not any(o.team == transfer.to_team for o in operators.values()):
        return f"no operator is in team {transfer.to_team}"
    if not transfer.to_operator:
        return ""
    target = operators.get(transfer.to_operator)
    if target is None:
        return f"{transfer.to_operator} is not an operator of this shop"
    if target.id == holder:
        return f"it is already with {target.id}"
    channel = conversation.channel
    if channel not in target.capacities:
        return f"{target.id} does not handle {channel}"
    if channel in target.paused:
        return f"{target.id} paused {channel}"
    if not target.serves(channel):
        return f"{target.id} is {target.status.value}"
    if transfer.override:
        return ""
    return _full(target, channel)


def _full(target: Operator, channel: str) -> str:
    """Why ``target`` has no room for one more conversation of ``channel``, or ""."""
    if target.room(channel) <= 0:
        used, limit = target.load.get(channel, 0), target.capacities[channel]
        return f"{target.id} is at capacity on {channel} ({used} of {limit})"
    if target.team_full:
        return f"{target.id}'s team {target.team} is at its limit of open conversations"
    if target.free(channel) <= 0:
        return f"{target.id} is at their cap of {target.cap:g} units across channels"
    return ""
