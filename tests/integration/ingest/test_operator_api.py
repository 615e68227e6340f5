"""Operator profiles, status, replies and resolutions go to their topics, over gRPC and REST alike."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import grpc
import pytest

from pronto import envelope, topics
from pronto.kafka.reader import header, read_records
from pronto.v1 import common_pb2, events_pb2, operator_pb2, operator_pb2_grpc
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.cli import build_parser
from pronto_tools.services import IngestService
from tests.plugins.ingest import TOKENS, bearer
from tests.support.webhooks import get, post

pytestmark = pytest.mark.integration


async def test_status_changes_and_replies_are_published(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    run = uuid.uuid4().hex[:8]
    async with grpc.aio.insecure_channel(ingest.grpc_target) as channel:
        stub = operator_pb2_grpc.OperatorServiceStub(channel)
        status = await stub.SetOperatorStatus(
            operator_pb2.SetOperatorStatusRequest(
                operator_id=f"op-{run}", status=events_pb2.OPERATOR_STATUS_ONLINE, idempotency_key=f"s-{run}"
            ),
            metadata=bearer("shop-a"),
        )
        again = await stub.SetOperatorStatus(
            operator_pb2.SetOperatorStatusRequest(
                operator_id=f"op-{run}", status=events_pb2.OPERATOR_STATUS_ONLINE, idempotency_key=f"s-{run}"
            ),
            metadata=bearer("shop-a"),
        )
        reply = await stub.PostReply(
            operator_pb2.PostReplyRequest(
                conversation_id=f"c-{run}", operator_id=f"op-{run}", text="Buongiorno!"
            ),
            metadata=bearer("shop-a"),
        )
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.PostReply(
                operator_pb2.PostReplyRequest(conversation_id=f"c-{run}", operator_id="", text=""),
                metadata=bearer("shop-a"),
            )
    assert again.duplicate
    assert again.event_id == status.event_id
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "operator_id is required" in (raised.value.details() or "")

    statuses = await read_records(
        broker.bootstrap_servers, topics.OPERATORS.name, lambda r: r.key == f"op-{run}".encode(), expect=1
    )
    assert [header(r, "ce_id") for r in statuses] == [status.event_id]
    changed = envelope.decode(statuses[0].headers, statuses[0].value)
    assert changed.payload == events_pb2.OperatorStatusChanged(
        operator_id=f"op-{run}", status=events_pb2.OPERATOR_STATUS_ONLINE
    )
    replies = await read_records(
        broker.bootstrap_servers, topics.OUTBOUND.name, lambda r: r.key == f"c-{run}".encode(), expect=1
    )
    assert [header(r, "ce_id") for r in replies] == [reply.event_id]
    replied = envelope.decode(replies[0].headers, replies[0].value).payload
    assert isinstance(replied, events_pb2.OperatorReplied)
    assert (replied.text, replied.operator_id) == ("Buongiorno!", f"op-{run}")
    assert replied.HasField("sent_at")


async def test_profiles_and_resolutions_over_grpc(ingest: IngestService, broker: EmbeddedBroker) -> None:
    run = uuid.uuid4().hex[:8]
    profile = events_pb2.OperatorProfileUpdated(
        operator_id=f"op-{run}",
        display_name="Giulia",
        languages=[events_pb2.LanguageSkill(language="it", proficiency=5)],
        topics=[common_pb2.SUPPORT_TOPIC_ORDERS],
        capacities=[events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_WEB_CHAT, max_concurrent=3)],
        team="front",
    )
    async with grpc.aio.insecure_channel(ingest.grpc_target) as channel:
        stub = operator_pb2_grpc.OperatorServiceStub(channel)
        updated = await stub.UpdateOperatorProfile(
            operator_pb2.UpdateOperatorProfileRequest(profile=profile), metadata=bearer("shop-a")
        )
        resolved = await stub.ResolveConversation(
            operator_pb2.ResolveConversationRequest(
                conversation_id=f"c-{run}", operator_id=f"op-{run}", resolution="refund sent"
            ),
            metadata=bearer("shop-a"),
        )
        bad = events_pb2.OperatorProfileUpdated(
            operator_id=f"op-{run}",
            capacities=[events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_EMAIL, max_concurrent=0)],
        )
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.UpdateOperatorProfile(
                operator_pb2.UpdateOperatorProfileRequest(profile=bad), metadata=bearer("shop-a")
            )
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "display_name is required" in (raised.value.details() or "")
    assert "max_concurrent is 0" in (raised.value.details() or "")

    profiles = await read_records(
        broker.bootstrap_servers, topics.OPERATORS.name, lambda r: r.key == f"op-{run}".encode(), expect=1
    )
    assert [header(r, "ce_id") for r in profiles] == [updated.event_id]
    assert envelope.decode(profiles[0].headers, profiles[0].value).payload == profile
    resolutions = await read_records(
        broker.bootstrap_servers, topics.OUTBOUND.name, lambda r: r.key == f"c-{run}".encode(), expect=1
    )
    assert [header(r, "ce_id") for r in resolutions] == [resolved.event_id]
    assert envelope.decode(resolutions[0].headers, resolutions[0].value).payload == (
        events_pb2.ConversationResolved(
            conversation_id=f"c-{run}", operator_id=f"op-{run}", resolution="refund sent"
        )
    )


async def _rest(
    ingest: IngestService, method: str, path: str, body: object, **headers: str
) -> tuple[int, Any]:
    sent = {"content-type": "application/json", **headers}
    return await post(ingest.http_url, path, json.dumps(body).encode(), sent, method)


async def test_the_rest_operator_api_writes_the_same_events(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    run = uuid.uuid4().hex[:8]
    auth = {"authorization": f"Bearer {TOKENS['shop-a']}"}
    profile = {
        "displayName": "Marek",
        "languages": [{"language": "pl", "proficiency": 5}, {"language": "en", "proficiency": 3}],
        "topics": ["SUPPORT_TOPIC_SHIPPING"],
        "capacities": [{"channel": "CHANNEL_EMAIL", "max_concurrent": 8}],
    }
    put_profile = await _rest(ingest, "PUT", f"/v1/operators/op-{run}/profile", {"profile": profile}, **auth)
    online = await _rest(ingest, "PUT", f"/v1/operators/op-{run}/status", {"status": "online"}, **auth)
    reply = {"operatorId": f"op-{run}", "text": "Dzień dobry!"}
    replied = await _rest(
        ingest, "POST", f"/v1/conversations/c-{run}/replies", reply, **auth, **{"idempotency-key": run}
    )
    again = await _rest(
        ingest, "POST", f"/v1/conversations/c-{run}/replies", reply, **auth, **{"idempotency-key": run}
    )
    resolved = await _rest(
        ingest, "POST", f"/v1/conversations/c-{run}/resolution", {"operator_id": f"op-{run}"}, **auth
    )

    assert [r[0] for r in (put_profile, online, replied, again, resolved)] == [202] * 5
    assert again[1] == {"event_id": replied[1]["event_id"], "duplicate": True}
    operator_events = await read_records(
        broker.bootstrap_servers, topics.OPERATORS.name, lambda r: r.key == f"op-{run}".encode(), expect=2
    )
    payloads = [envelope.decode(r.headers, r.value).payload for r in operator_events]
    assert payloads[0] == events_pb2.OperatorProfileUpdated(
        operator_id=f"op-{run}",
        display_name="Marek",
        languages=[
            events_pb2.LanguageSkill(language="pl", proficiency=5),
            events_pb2.LanguageSkill(language="en", proficiency=3),
        ],
        topics=[common_pb2.SUPPORT_TOPIC_SHIPPING],
        capacities=[events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_EMAIL, max_concurrent=8)],
    )
    assert payloads[1] == events_pb2.OperatorStatusChanged(
        operator_id=f"op-{run}", status=events_pb2.OPERATOR_STATUS_ONLINE
    )
    outbound = await read_records(
        broker.bootstrap_servers, topics.OUTBOUND.name, lambda r: r.key == f"c-{run}".encode(), expect=2
    )
    assert [type(envelope.decode(r.headers, r.value).payload).__name__ for r in outbound] == [
        "OperatorReplied",
        "ConversationResolved",
    ]


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "fragment"),
    [
        ("/v1/operators/op-1/status", {"status": "online"}, {}, 401, "missing authorization"),
        (
            "/v1/operators/op-1/status",
            {"status": "online"},
            {"authorization": "Bearer nope"},
            401,
            "unknown token",
        ),
        ("/v1/operators/op-1/status", {"status": "online", "tenant": "shop-b"}, None, 403, "not 'shop-b'"),
        ("/v1/operators/op-1/status", {"status": "sleeping"}, None, 422, "sleeping"),
        ("/v1/operators/op-1/status", {"status": "online", "operatorId": "op-2"}, None, 422, "path says"),
        ("/v1/operators/op-1/status", ["online"], None, 422, "JSON object"),
        (
            "/v1/operators/op-1/profile",
            {"profile": {"displayName": "A", "languages": [{"language": "x y"}]}},
            None,
            422,
            "not a BCP 47 tag",
        ),
        ("/v1/conversations/c-1/replies", {"operatorId": "op-1"}, None, 422, "needs content"),
        ("/v1/conversations/c-1/resolution", {"operatorId": "op-1", "colour": "red"}, None, 422, "colour"),
    ],
)
async def test_the_rest_operator_api_says_what_is_wrong(
    ingest: IngestService,
    path: str,
    body: object,
    headers: dict[str, str] | None,
    status: int,
    fragment: str,
) -> None:
    method = "PUT" if path.startswith("/v1/operators") else "POST"
    sent = headers if headers is not None else {"authorization": f"Bearer {TOKENS['shop-a']}"}
    status_code, answer = await _rest(ingest, method, path, body, **sent)
    assert status_code == status, answer
    assert fragment in answer["detail"]


async def test_the_openapi_schema_shows_what_each_operator_call_takes(ingest: IngestService) -> None:
    status, raw = await get(ingest.http_url, "/openapi.json")
    paths = json.loads(raw)["paths"]

    assert status == 200
    for path, method in (
        ("/v1/operators/{operator_id}/profile", "put"),
        ("/v1/operators/{operator_id}/status", "put"),
        ("/v1/conversations/{conversation_id}/replies", "post"),
        ("/v1/conversations/{conversation_id}/resolution", "post"),
        ("/v1/conversations/{conversation_id}/state", "put"),
    ):
        body = paths[path][method]["requestBody"]["content"]["application/json"]
        assert body["example"], path


async def test_conversation_states_over_grpc_and_rest(ingest: IngestService, broker: EmbeddedBroker) -> None:
    """Pending, on hold and open again (issue #21): ConversationStateChanged on the conversation's
    key of the outbound topic, with the operator's reason; REST takes the short names."""
    run = uuid.uuid4().hex[:8]
    async with grpc.aio.insecure_channel(ingest.grpc_target) as channel:
        stub = operator_pb2_grpc.OperatorServiceStub(channel)
        request = operator_pb2.SetConversationStateRequest(
            conversation_id=f"c-{run}",
            operator_id=f"op-{run}",
            state=events_pb2.CONVERSATION_STATE_ON_HOLD,
            reason="waiting for the courier",
            idempotency_key=f"h-{run}",
        )
        held = await stub.SetConversationState(request, metadata=bearer("shop-a"))
        again = await stub.SetConversationState(request, metadata=bearer("shop-a"))
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.SetConversationState(
                operator_pb2.SetConversationStateRequest(conversation_id=f"c-{run}", operator_id="op"),
                metadata=bearer("shop-a"),
            )
    auth = {"authorization": f"Bearer {TOKENS['shop-a']}"}
    pending = await _rest(
        ingest,
        "PUT",
        f"/v1/conversations/c-{run}/state",
        {"operatorId": f"op-{run}", "state": "pending"},
        **auth,
    )
    wrong = await _rest(
        ingest,
        "PUT",
        f"/v1/conversations/c-{run}/state",
        {"operatorId": f"op-{run}", "state": "asleep"},
        **auth,
    )

    assert (again.event_id, again.duplicate) == (held.event_id, True)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "state is required" in (raised.value.details() or "")
    assert pending[0] == 202
    assert wrong[0] == 422
    assert "asleep" in wrong[1]["detail"]
    records = await read_records(
        broker.bootstrap_servers, topics.OUTBOUND.name, lambda r: r.key == f"c-{run}".encode(), expect=2
    )
    assert [envelope.decode(r.headers, r.value).payload for r in records] == [
        events_pb2.ConversationStateChanged(
            conversation_id=f"c-{run}",
            operator_id=f"op-{run}",
            state=events_pb2.CONVERSATION_STATE_ON_HOLD,
            reason="waiting for the courier",
        ),
        events_pb2.ConversationStateChanged(
            conversation_id=f"c-{run}", operator_id=f"op-{run}", state=events_pb2.CONVERSATION_STATE_PENDING
        ),
    ]


def test_the_command_line_sets_a_conversation_on_hold(ingest: IngestService, broker: EmbeddedBroker) -> None:
    run = uuid.uuid4().hex[:8]
    server = ["--target", ingest.grpc_target, "--token", TOKENS["shop-a"]]
    args = build_parser().parse_args(
        ["operator", "state", f"c-{run}", f"op-{run}", "on_hold", "--reason", "supplier", *server]
    )

    assert args.run(args) == 0
    [record] = asyncio.run(
        read_records(
            broker.bootstrap_servers, topics.OUTBOUND.name, lambda r: r.key == f"c-{run}".encode(), expect=1
        )
    )
    assert envelope.decode(record.headers, record.value).payload == events_pb2.ConversationStateChanged(
        conversation_id=f"c-{run}",
        operator_id=f"op-{run}",
        state=events_pb2.CONVERSATION_STATE_ON_HOLD,
        reason="supplier",
    )
