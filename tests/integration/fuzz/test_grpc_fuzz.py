"""The gRPC contracts fuzzed from their descriptors: ingest's Publish and PublishStream, the operator API.

``tests/support/proto_strategies.py`` draws the messages.

Each call gets either a message drawn from the descriptor (mostly refused) or a valid one with
one field made hostile: extreme timestamps and durations, unknown enum numbers, huge repeated
fields, long strings. No call may end in a server error (UNKNOWN, INTERNAL, DATA_LOSS,
UNIMPLEMENTED) or stall to its deadline; a stream acknowledges every event it was sent; and
ingest's topics hold exactly the events it acknowledged, each once: no partial publish.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import grpc
import pytest
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from pronto.v1 import common_pb2, events_pb2, ingest_pb2, ingest_pb2_grpc, operator_pb2, operator_pb2_grpc
from tests.integration.fuzz.conftest import TOKEN, Fuzzed
from tests.support.proto_strategies import messages, mutated

pytestmark = pytest.mark.integration
EXAMPLES = 80
SERVER_ERRORS = {
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.DATA_LOSS,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
}
METADATA = (("authorization", f"Bearer {TOKEN}"),)
TIMEOUT_S = 15


def _message() -> ingest_pb2.PublishRequest:
    return ingest_pb2.PublishRequest(
        message_received=events_pb2.MessageReceived(
            conversation_id="fuzz-conversation",
            channel=common_pb2.CHANNEL_WEB_CHAT,
            channel_message_id="fuzz-message",
            sender=common_pb2.Sender(id="fuzz-customer"),
            text="Ciao",
        )
    )


# A valid request of each call, and where in it the field to make hostile is.
VALID: dict[str, tuple[Message, tuple[str, ...]]] = {
    "Publish": (_message(), ("message_received",)),
    "SetOperatorStatus": (
        operator_pb2.SetOperatorStatusRequest(operator_id="ada", status=events_pb2.OPERATOR_STATUS_ONLINE),
        (),
    ),
    "PostReply": (
        operator_pb2.PostReplyRequest(conversation_id="fuzz-conversation", operator_id="ada", text="Eccomi"),
        (),
    ),
    "UpdateOperatorProfile": (
        operator_pb2.UpdateOperatorProfileRequest(
            profile=events_pb2.OperatorProfileUpdated(operator_id="ada", display_name="Ada")
        ),
        ("profile",),
    ),
    "ResolveConversation": (
        operator_pb2.ResolveConversationRequest(conversation_id="fuzz-conversation", operator_id="ada"),
        (),
    ),
    "SetConversationState": (
        operator_pb2.SetConversationStateRequest(
            conversation_id="fuzz-conversation",
            operator_id="ada",
            state=events_pb2.CONVERSATION_STATE_PENDING,
        ),
        (),
    ),
    # Mostly refused by routing (no such conversation): FAILED_PRECONDITION, the request written.
    "TransferConversation": (
        operator_pb2.TransferConversationRequest(
            conversation_id="fuzz-conversation", operator_id="ada", to_operator_id="bo"
        ),
        (),
    ),
}


def requests(call: str) -> st.SearchStrategy[Message]:
    """Drawn from the descriptor, or valid with one hostile field; a fresh idempotency key on most,
    so that what is valid is written rather than answered as a duplicate."""
    base, path = VALID[call]
    drawn = st.one_of(messages(cast(Descriptor, base.DESCRIPTOR)), mutated(base, path), mutated(base, path))

    def keyed(message: Message, key: uuid.UUID | None, own_tenant: bool) -> Message:
        if key is not None:
            message.idempotency_key = str(key)  # type: ignore[attr-defined]
        if own_tenant:
            message.tenant = ""  # type: ignore[attr-defined]
        return message

    return st.builds(keyed, drawn, st.one_of(st.none(), st.uuids()), st.booleans())


@dataclass
class Outcomes:
    calls: int = 0
    failures: list[str] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)

    def refused(self, call: str, error: grpc.RpcError, request: object) -> None:
        if error.code() in SERVER_ERRORS:
            self.failures.append(f"{call}: {error.code()} {error.details()}: {str(request)[:500]}")


def _run(test: Callable[..., None], examples: int) -> None:
    settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )(test)()


def _unary(channel: grpc.Channel, outcomes: Outcomes) -> None:
    ingest = ingest_pb2_grpc.IngestServiceStub(channel)
    operators = operator_pb2_grpc.OperatorServiceStub(channel)
    for call in VALID:
        _fuzz_unary(call, getattr(ingest if call == "Publish" else operators, call), outcomes)


def _fuzz_unary(call: str, method: Any, outcomes: Outcomes) -> None:
    @given(request=requests(call))
    def send(request: Message) -> None:
        outcomes.calls += 1
        try:
            answer = method(request, metadata=METADATA, timeout=TIMEOUT_S)
        except grpc.RpcError as error:
            outcomes.refused(call, error, request)
            # A transfer routing refused (or did not decide in time) was written, and says so.
            written = dict(error.trailing_metadata() or ()).get("event-id")
            if written:
                outcomes.accepted.add(written)
            return
        if not answer.duplicate:
            outcomes.accepted.add(answer.event_id)

    _run(send, EXAMPLES)


def _streams(channel: grpc.Channel, outcomes: Outcomes) -> None:
    """Batches of drawn requests, each event numbered; and now and then a whole drawn stream message
    (sequences of its own, a huge list of events)."""
    stub = ingest_pb2_grpc.IngestServiceStub(channel)
    numbered = st.lists(st.lists(requests("Publish"), min_size=1, max_size=4), min_size=1, max_size=3)
    raw = st.lists(
        messages(cast(Descriptor, ingest_pb2.PublishStreamRequest.DESCRIPTOR), depth=5),
        min_size=1,
        max_size=2,
    )

    @given(batches=st.one_of(numbered, numbered, raw))
    def send(batches: list[Any]) -> None:
        outcomes.calls += 1
        if isinstance(batches[0], list):
            sent = [
                ingest_pb2.PublishStreamRequest(
                    events=[
                        ingest_pb2.StreamedEvent(sequence=10 * b + i, request=r) for i, r in enumerate(batch)
                    ]
                )
                for b, batch in enumerate(batches)
            ]
            expected: set[int] | None = {e.sequence for m in sent for e in m.events}
        else:
            sent, expected = batches, None
        try:
            acks = [
                a
                for answer in stub.PublishStream(iter(sent), metadata=METADATA, timeout=TIMEOUT_S)
                for a in answer.acks
            ]
        except grpc.RpcError as error:
            outcomes.refused("PublishStream", error, sent)
            return
        if expected is not None and {a.sequence for a in acks} != expected:
            outcomes.failures.append(
                f"PublishStream acknowledged {sorted(a.sequence for a in acks)} of {sorted(expected)}"
            )
        outcomes.accepted.update(
            a.event_id for a in acks if a.code == grpc.StatusCode.OK.value[0] and not a.duplicate
        )

    _run(send, EXAMPLES)


@pytest.mark.timeout(240)
def test_no_call_is_a_server_error_or_a_partial_publish(fuzzed: Fuzzed) -> None:
    before = asyncio.run(fuzzed.written_ids())
    outcomes = Outcomes()
    with grpc.insecure_channel(fuzzed.system.ingest.grpc_target) as channel:
        _unary(channel, outcomes)
        _streams(channel, outcomes)
    print(f"{outcomes.calls} calls, {len(outcomes.accepted)} events acknowledged")
    assert outcomes.failures == [], "\n\n".join(outcomes.failures[:10])
    assert outcomes.accepted, "nothing valid got through: the fuzzing never reached a write"

    new = asyncio.run(fuzzed.new_ids(before, outcomes.accepted))
    assert set(new) == outcomes.accepted, {
        "acknowledged, not written": sorted(outcomes.accepted - set(new))[:10],
        "written, not acknowledged": sorted(set(new) - outcomes.accepted)[:10],
    }
    assert len(new) == len(set(new)), "an acknowledged event was written twice"
    for service in fuzzed.system.services:
        service.wait_ready(timeout=10)  # none was brought down by what the fuzzing got accepted
