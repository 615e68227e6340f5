"""Reads a routing decision's outcome for the tests: who was assigned and why others were refused."""

from __future__ import annotations

from services.routing.domain.decision import (
    Assign,
    Candidate,
    Decision,
)


def assigned_to(decision: Decision) -> str:
    assert isinstance(decision, Assign), decision
    return decision.operator_id


def reasons(candidates: tuple[Candidate, ...]) -> dict[str, str]:
    return {candidate.operator_id: candidate.reason for candidate in candidates}
