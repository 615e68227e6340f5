"""The simulated team stops answering once stopped.

The inbox still hears of assignments while a demo settles, and answering them on a closed client failed
with "Channel is closed" (seen in ``bench.soak``)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from pronto.grpc_client import ProntoClient
from pronto.v1 import events_pb2
from pronto_tools.simulate.team import Team


def test_assignments_told_after_stop_are_not_answered() -> None:
    async def run() -> int:
        profile = events_pb2.OperatorProfileUpdated(operator_id="ada")
        team = Team(cast(ProntoClient, cast(Any, object())), [profile], handling_s=(60.0, 60.0))
        team.assigned("ada", "c-1", "en")
        assert team.counts["assignments told"] == 1
        await team.stop()
        team.assigned("ada", "c-2", "en")
        return team.counts["assignments told"]

    assert asyncio.run(run()) == 1
