"""A customer writes on Telegram and is answered on Telegram, through the whole system.

The customer's message comes as Telegram's signed webhook; routing assigns it to the
operator online; the operator replies over gRPC; notify sends ``sendMessage`` to a
loopback server behaving like the Bot API, for the customer's chat, with the operator's
text signed with their name; and SLA stops the first-response clock as met.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from pronto import topics
from pronto.grpc_client import ProntoClient
from pronto.kafka.reader import header, read_records
from pronto.v1 import events_pb2, operator_pb2
from pronto_tools.simulate.channels import CustomerMessage
from pronto_tools.simulate.team import roster
from tests.e2e.conftest import TENANT, TOKEN, Running, whole_system
from tests.e2e.publishing import customer_writes, operator_joins
from tests.e2e.test_channels_end_to_end import _one, _payload, met_first_responses
from tests.support import platforms
from tests.support.platforms import FakePlatforms, fake_platforms
from tests.support.processes import eventually

pytestmark = pytest.mark.integration
OPERATOR, OPERATOR_NAME = "tiziana", "Tiziana"


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakePlatforms]:
    with fake_platforms() as fakes:
        yield fakes


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, telegram: FakePlatforms) -> Iterator[Running]:
    outbound = {"telegram": {"bot_token": platforms.TELEGRAM_TOKEN, "api_base": telegram.base("telegram")}}
    with whole_system(tmp_path_factory.mktemp("e2e-telegram"), notify={"outbound": outbound}) as running:
        yield running


async def test_a_telegram_customer_is_answered_on_telegram(running: Running, telegram: FakePlatforms) -> None:
    profile = roster(1, capacity=5)[0]
    profile.operator_id, profile.display_name = OPERATOR, OPERATOR_NAME
    await operator_joins(running.system.ingest.grpc_target, TOKEN, profile)

    message = CustomerMessage(
        channel="telegram",
        customer_id="734211",
        name="Giulia Rossi",
        text="Buongiorno, il mio ordine 4512 non è ancora arrivato.",
        message_id="tg-e2e-1",
        sent_at=time.time(),
    )
    event_id = await customer_writes(running.system.ingest.http_url, TENANT, message)
    inbound = await read_records(
        running.bootstrap_servers, topics.INBOUND.name, lambda r: header(r, "ce_id") == event_id, expect=1
    )
    received = _payload(inbound[0])
    assert isinstance(received, events_pb2.MessageReceived)
    conversation, chat_id = received.conversation_id, received.sender.id

    assigned = await _one(
        running, topics.CONVERSATIONS.name, events_pb2.ConversationAssigned, conversation, "assignment"
    )
    assert isinstance(assigned, events_pb2.ConversationAssigned)
    assert assigned.operator_id == OPERATOR
    before = met_first_responses(running, "telegram")

    reply = "Ciao Giulia, il pacco parte oggi: ecco il tracking RM4512IT."
    async with ProntoClient(running.system.ingest.grpc_target, TOKEN) as client:
        await client.operators.PostReply(
            operator_pb2.PostReplyRequest(conversation_id=conversation, operator_id=OPERATOR, text=reply),
            metadata=client.metadata,
        )

    await eventually(lambda: telegram.to("telegram", reply), 30, "sendMessage with the reply")
    await asyncio.sleep(1.0)  # a second sending would show now
    (sent,) = telegram.to("telegram", reply, status=None)
    assert sent.status == 200
    assert sent.path == f"/telegram/bot{platforms.TELEGRAM_TOKEN}/sendMessage"
    assert sent.body == {"chat_id": chat_id, "text": f"{reply}\n\n— {OPERATOR_NAME}, assistenza clienti"}
    # The customer was also told, on Telegram, who is answering.
    assert [c.body["text"] for c in telegram.to("telegram", "sono Tiziana")]

    met = await _one(running, topics.SLA.name, events_pb2.SlaMet, conversation, "first response met")
    assert isinstance(met, events_pb2.SlaMet)
    assert met.metric == events_pb2.SLA_METRIC_FIRST_RESPONSE
    await eventually(
        lambda: met_first_responses(running, "telegram") == before + 1, 10, "telegram's met counter"
    )
