"""Turns platforms' delivery status reports into status events; re-sends a reply as WhatsApp's template.

A report names the notifications it is about by our id, the platform's id,
or a watermark (every message to the recipient read up to then); each
notification moves forward through sent, delivered, read (or failed), each
status once. WhatsApp reports afterwards that free text sent outside its
24-hour window failed (131047): an operator's reply then goes again as the
shop's template, as a second outcome of the same request.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pronto import event_ids, topics
from pronto.channels import channel_name
from pronto.envelope import Envelope
from pronto.v1 import events_pb2
from services.notify.delivery.adapter_choice import AdapterChoice
from services.notify.delivery.messages import PROCESSOR, message
from services.notify.delivery.outcomes import Outcomes
from services.notify.delivery.partition_state import PartitionState
from services.notify.delivery.platforms.meta import REENGAGEMENT, WhatsApp
from services.notify.delivery.sending import Sender
from services.notify.domain import statuses
from services.notify.domain.statuses import Tracked
from services.notify.errors import DeliveryError
from services.notify.metrics import NotifyMetrics

log = logging.getLogger("pronto.notify.delivery")


class StatusReports:
    def __init__(
        self, source: str, metrics: NotifyMetrics, adapters: AdapterChoice, sender: Sender, outcomes: Outcomes
    ) -> None:
        self.source = source
        self.metrics = metrics
        self.adapters = adapters
        self.sender = sender
        self.outcomes = outcomes

    async def reported(
        self, state: PartitionState, event: Envelope, report: events_pb2.DeliveryStatusReported
    ) -> None:
        """A platform's report, correlated to the notifications it is about: each status once, forward."""
        found = state.deliveries.matching(report)
        if not found and report.notification_id:  # delivered before what this worker has read
            stub = Tracked(
                report.notification_id,
                "",
                channel_name(report.channel),
                report.recipient,
                report.platform_message_id,
                event.time,
                0,
            )
            state.deliveries.sent(stub)  # later reports about it move forward from this one
            found = [stub]
        if not found:
            self.metrics.statuses.labels(channel_name(report.channel), "unmatched").inc()
            log.info(
                "no delivery known here for %s's report %s",
                channel_name(report.channel),
                report.platform_message_id,
            )
            return
        key = f"{event.tenant}/customer/{report.recipient}"
        for tracked in found:
            if not statuses.advances(tracked.status, report.status):
                continue
            tracked.status = report.status
            self.metrics.statuses.labels(tracked.adapter, statuses.name(report.status)).inc()
            changed = events_pb2.NotificationStatusChanged(
                notification_id=tracked.notification_id,
                conversation_id=tracked.conversation_id,
                status=report.status,
                platform_message_id=tracked.platform_message_id or report.platform_message_id,
                adapter=tracked.adapter,
                error_code=report.error_code,
                error_text=report.error_text,
            )
            about = f"{tracked.notification_id}/{tracked.platform_message_id}/status/{report.status}"
            status_id = event_ids.derived(PROCESSOR, about, 0)
            await self.outcomes.write(
                topics.NOTIFICATIONS.name,
                key,
                Envelope(status_id, self.source, event.tenant, changed, datetime.now(UTC), event.traceparent),
                None,
            )
            if report.status == statuses.FAILED and report.error_code == str(REENGAGEMENT):
                await self._template_instead(state, tracked.notification_id)

    async def _template_instead(self, state: PartitionState, notification_id: str) -> None:
        """WhatsApp took free text outside its 24-hour window and reported 131047 afterwards: an
        operator's reply goes again as the shop's template. Only a request this worker sent is known."""
        request = state.texts_sent.pop(notification_id, None)
        adapter = self.adapters.for_request(request) if request is not None else None
        if request is None or not isinstance(adapter, WhatsApp):
            log.warning(
                "WhatsApp's window had closed for %s, which this worker cannot send again", notification_id
            )
            self.metrics.statuses.labels("whatsapp", "not_resent").inc()
            return
        attempts = 0
        try:
            async for attempt in self.sender.retries.retrying():
                with attempt:
                    attempts += 1
                    async with self.sender.slots(request):
                        sent = await adapter.template_instead(message([request], datetime.now(UTC)))
        except DeliveryError as exc:
            await self.outcomes.failed([request], adapter.name, attempts, exc.reason, exc.code, index=2)
            return
        note = f"WhatsApp reported its 24-hour window closed (131047): sent again as template; {sent.note}"
        await self.outcomes.record(
            [request],
            lambda r: events_pb2.NotificationDelivered(
                notification_id=r.id,
                conversation_id=r.request.conversation_id,
                adapter=adapter.name,
                attempts=1 + attempts,
                platform_message_id=sent.platform_message_id,
                note=note,
                via_template=True,
            ),
            index=2,
        )
