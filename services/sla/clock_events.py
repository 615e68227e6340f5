"""SLA's clock outputs as the events it publishes on ``support.sla.v1``. No I/O."""

from __future__ import annotations

from google.protobuf.message import Message

from pronto.channels import channel_value
from pronto.v1 import common_pb2, events_pb2
from services.sla.domain.clock_outputs import (
    Breached,
    Output,
    Paused,
    Resumed,
    Retargeted,
    Started,
    Warned,
)
from services.sla.domain.clocks import ConversationClocks
from services.sla.domain.policy import Metric

METRICS = {
    Metric.FIRST_RESPONSE: events_pb2.SLA_METRIC_FIRST_RESPONSE,
    Metric.NEXT_RESPONSE: events_pb2.SLA_METRIC_NEXT_RESPONSE,
    Metric.RESOLUTION: events_pb2.SLA_METRIC_RESOLUTION,
}


def clock_event(clocks: ConversationClocks, output: Output) -> Message:
    """The event of one clock output of the conversation ``clocks``."""
    conversation_id, channel = clocks.conversation_id, channel_value(clocks.channel)
    metric = METRICS[output.metric]
    if isinstance(output, Started):
        started = events_pb2.SlaClockStarted(
            conversation_id=conversation_id,
            metric=metric,
            channel=channel,
            business_time=output.target.business,
        )
        started.target.FromTimedelta(output.target.duration)
        started.warn_at.FromDatetime(output.warn_at)
        started.deadline.FromDatetime(output.deadline)
        if output.opens_at is not None:
            started.opens_at.FromDatetime(output.opens_at)
        return started
    if isinstance(output, Retargeted):
        retargeted = events_pb2.SlaClockRetargeted(
            conversation_id=conversation_id,
            metric=metric,
            channel=channel,
            business_time=output.target is not None and output.target.business,
            tier=output.priority + common_pb2.CUSTOMER_TIER_STANDARD,  # type: ignore[arg-type]
            switched_off=output.target is None,
        )
        retargeted.elapsed.FromTimedelta(output.elapsed)
        if output.target is not None:
            retargeted.target.FromTimedelta(output.target.duration)
        if output.warn_at is not None and output.deadline is not None:
            retargeted.warn_at.FromDatetime(output.warn_at)
            retargeted.deadline.FromDatetime(output.deadline)
        return retargeted
    if isinstance(output, Paused):
        paused = events_pb2.SlaClockPaused(
            conversation_id=conversation_id,
            metric=metric,
            channel=channel,
            state=output.state,
            reason=output.reason,
        )
        paused.elapsed.FromTimedelta(output.elapsed)
        return paused
    if isinstance(output, Resumed):
        resumed = events_pb2.SlaClockResumed(
            conversation_id=conversation_id,
            metric=metric,
            channel=channel,
            state=output.state,
            reason=output.reason,
        )
        resumed.elapsed.FromTimedelta(output.elapsed)
        resumed.warn_at.FromDatetime(output.warn_at)
        resumed.deadline.FromDatetime(output.deadline)
        return resumed
    if isinstance(output, Warned):
        warned = events_pb2.SlaWarning(
            conversation_id=conversation_id,
            metric=metric,
            channel=channel,
            predicted=output.predicted,
            operator_id=clocks.operator_id,
        )
        warned.deadline.FromDatetime(output.deadline)
        return warned
    if isinstance(output, Breached):
        breached = events_pb2.SlaBreached(
            conversation_id=conversation_id,
            metric=metric,
            channel=channel,
            operator_id=clocks.operator_id,
        )
        breached.deadline.FromDatetime(output.deadline)
        return breached
    stopped: events_pb2.SlaMet | events_pb2.SlaMissed = (
        events_pb2.SlaMet(conversation_id=conversation_id, metric=metric, channel=channel)
        if output.met
        else events_pb2.SlaMissed(conversation_id=conversation_id, metric=metric, channel=channel)
    )
    stopped.elapsed.FromTimedelta(output.elapsed)
    stopped.target.FromTimedelta(output.target.duration)
    return stopped
