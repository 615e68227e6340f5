"""``pronto``: the operator and admin command line.

pronto broker            run the embedded broker (and create the topics)
pronto topics            create every topic, idempotently
pronto publish           send one customer message through ingest (gRPC)
pronto operator status   set an operator online / away / offline
pronto operator reply    post an operator's reply to a conversation
pronto demo              the whole system with demo traffic
pronto simulate          customers and operators driving a running Pronto through its public APIs
pronto history           export a shop's events to files, and import them back
pronto backtest          replay a shop's history through another routing or SLA configuration
pronto staffing          operators needed per channel, language and hour of the week, from a history
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import grpc
from kafka.errors import KafkaError

from pronto.v1 import common_pb2, events_pb2, ingest_pb2, operator_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.broker.provision import API_VERSION, provision
from pronto_tools.errors import ProvisioningError
from pronto_tools.simulate.command import positive as _positive

DEFAULT_BOOTSTRAP = os.environ.get("PRONTO_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
DEFAULT_TARGET = os.environ.get("PRONTO_INGEST_TARGET", "127.0.0.1:50051")
DEFAULT_TOKEN = os.environ.get("PRONTO_TOKEN", "demo-token")


def _enum_choices(enum: Any, prefix: str) -> dict[str, Any]:
    """'web_chat' -> CHANNEL_WEB_CHAT, for every value but UNSPECIFIED (Any: protobuf types enums as ints)."""
    return {name.removeprefix(prefix).lower(): value for name, value in enum.items() if value}


CHANNELS = _enum_choices(common_pb2.Channel, "CHANNEL_")
STATUSES = _enum_choices(events_pb2.OperatorStatus, "OPERATOR_STATUS_")
CONVERSATION_STATES = _enum_choices(events_pb2.ConversationState, "CONVERSATION_STATE_")


def cmd_broker(args: argparse.Namespace) -> int:
    broker = EmbeddedBroker(port=args.port, host=args.host)
    broker.start()
    print(f"embedded broker (Tansu, memory only) listening on {broker.bootstrap_servers}", flush=True)
    if not args.no_topics:
        provision(broker.bootstrap_servers, log=lambda line: print(f"  {line}", flush=True))
    print("Ctrl-C stops it (its records are lost: storage is memory only)", flush=True)
    signal.signal(signal.SIGTERM, _exit_quietly)
    try:
        while broker.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        broker.stop()
    return 0


def _exit_quietly(*_: object) -> None:
    raise SystemExit(0)


def cmd_topics(args: argparse.Namespace) -> int:
    try:
        report = provision(
            args.bootstrap_servers,
            log=print,
            replication_factor=args.replication_factor,
            api_version=None if args.kafka_api_version == "auto" else API_VERSION,
        )
    except ProvisioningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KafkaError as exc:
        print(f"error: cannot reach Kafka at {args.bootstrap_servers}: {exc}", file=sys.stderr)
        return 1
    print(f"{len(report.created)} created, {len(report.existing)} already present")
    return 0


async def _call(
    args: argparse.Namespace, call: Callable[[Any, tuple[tuple[str, str], ...]], Coroutine[Any, Any, Any]]
) -> int:
    from pronto.grpc_client import ProntoClient

    async with ProntoClient(args.target, args.token) as client:
        try:
            response = await call(client, client.metadata)
        except grpc.aio.AioRpcError as exc:
            print(f"error: {exc.code().name}: {exc.details()}", file=sys.stderr)
            return 1
    print(str(response).strip() or "ok")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    message = events_pb2.MessageReceived(
        conversation_id=args.conversation,
        channel=CHANNELS[args.channel],
        channel_message_id=args.message_id or str(uuid.uuid4()),
        sender=common_pb2.Sender(id=args.sender, display_name=args.name),
        text=args.text,
        language=args.language,
    )
    request = ingest_pb2.PublishRequest(message_received=message)
    return asyncio.run(_call(args, lambda c, md: c.ingest.Publish(request, metadata=md, timeout=30)))


def cmd_status(args: argparse.Namespace) -> int:
    request = operator_pb2.SetOperatorStatusRequest(
        operator_id=args.operator,
        status=STATUSES[args.status],
        reason=args.reason,
        idempotency_key=args.key,
        channel=CHANNELS[args.channel] if args.channel else common_pb2.CHANNEL_UNSPECIFIED,
    )
    return asyncio.run(
        _call(args, lambda c, md: c.operators.SetOperatorStatus(request, metadata=md, timeout=30))
    )


def cmd_reply(args: argparse.Namespace) -> int:
    request = operator_pb2.PostReplyRequest(
        conversation_id=args.conversation, operator_id=args.operator, text=args.text, idempotency_key=args.key
    )
    return asyncio.run(_call(args, lambda c, md: c.operators.PostReply(request, metadata=md, timeout=30)))


def cmd_state(args: argparse.Namespace) -> int:
    request = operator_pb2.SetConversationStateRequest(
        conversation_id=args.conversation,
        operator_id=args.operator,
        state=CONVERSATION_STATES[args.state],
        reason=args.reason,
        idempotency_key=args.key,
    )
    return asyncio.run(
        _call(args, lambda c, md: c.operators.SetConversationState(request, metadata=md, timeout=30))
    )


def cmd_transfer(args: argparse.Namespace) -> int:
    request = operator_pb2.TransferConversationRequest(
        conversation_id=args.conversation,
        operator_id=args.operator,
        by_supervisor=args.supervisor,
        to_operator_id=args.to_operator,
        to_team=args.to_team,
        reason=args.reason,
        override_capacity=args.override_capacity,
        idempotency_key=args.key,
    )
    return asyncio.run(
        _call(args, lambda c, md: c.operators.TransferConversation(request, metadata=md, timeout=30))
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from pronto_tools.demo.run import run_demo
    from pronto_tools.demo.settings import DemoOptions

    options = DemoOptions(duration=args.duration, rate=args.rate, seed=args.seed)
    stats = asyncio.run(run_demo(options, say=lambda line: print(line, flush=True)))
    return 0 if stats.accepted > 0 and not stats.stopped_early else 1


def cmd_simulate(args: argparse.Namespace) -> int:
    from pronto_tools.simulate.command import simulate

    return simulate(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pronto", description="Pronto operator and admin tools")
    commands = parser.add_subparsers(dest="command", required=True)

    broker = commands.add_parser("broker", help="run the embedded Kafka-compatible broker (memory only)")
    broker.add_argument("--port", type=int, default=9092)
    broker.add_argument("--host", default="127.0.0.1")
    broker.add_argument("--no-topics", action="store_true", help="do not create Pronto's topics")
    broker.set_defaults(run=cmd_broker)

    topics = commands.add_parser("topics", help="create every Pronto topic (idempotent)")
    topics.add_argument("--bootstrap-servers", default=DEFAULT_BOOTSTRAP)
    topics.add_argument("--replication-factor", type=int, default=1)
    topics.add_argument(
        "--kafka-api-version",
        choices=["embedded", "auto"],
        default="embedded",
        help="auto: ask the broker (Apache Kafka); embedded: the requests the embedded broker understands",
    )
    topics.set_defaults(run=cmd_topics)

    def grpc_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--target", default=DEFAULT_TARGET, help="ingest gRPC address (env PRONTO_INGEST_TARGET)"
        )
        p.add_argument("--token", default=DEFAULT_TOKEN, help="bearer token (env PRONTO_TOKEN)")
        p.add_argument(
            "--key",
            default="",
            help="idempotency key: the same key again is the same event (default: a new event)",
        )

    publish = commands.add_parser("publish", help="send one customer message through ingest")
    publish.add_argument("--conversation", required=True)
    publish.add_argument("--channel", choices=sorted(CHANNELS), default="web_chat")
    publish.add_argument("--sender", required=True, help="the channel's id of the customer")
    publish.add_argument("--name", default="", help="the customer's display name")
    publish.add_argument("--language", default="")
    publish.add_argument("--message-id", default="", help="the channel's message id (default: random)")
    publish.add_argument("text")
    grpc_options(publish)
    publish.set_defaults(run=cmd_publish)

    operator = commands.add_parser("operator", help="operator actions").add_subparsers(
        dest="action", required=True
    )
    status = operator.add_parser("status", help="set an operator's status")
    status.add_argument("operator")
    status.add_argument("status", choices=sorted(STATUSES))
    status.add_argument("--reason", default="")
    status.add_argument(
        "--channel",
        choices=sorted(CHANNELS),
        help="this channel alone: 'away' pauses it (keeping its capacity), 'online' resumes it",
    )
    grpc_options(status)
    status.set_defaults(run=cmd_status)
    reply = operator.add_parser("reply", help="post an operator's reply")
    reply.add_argument("conversation")
    reply.add_argument("operator")
    reply.add_argument("text")
    grpc_options(reply)
    reply.set_defaults(run=cmd_reply)
    conversation_state = operator.add_parser(
        "state", help="set a conversation open, pending (waiting on the customer) or on hold (a third party)"
    )
    conversation_state.add_argument("conversation")
    conversation_state.add_argument("operator")
    conversation_state.add_argument("state", choices=sorted(CONVERSATION_STATES))
    conversation_state.add_argument("--reason", default="")
    grpc_options(conversation_state)
    conversation_state.set_defaults(run=cmd_state)
    transfer = operator.add_parser(
        "transfer",
        help="hand a conversation to a colleague (--to), a team (--team) or back to the queue (neither)",
    )
    transfer.add_argument("conversation")
    transfer.add_argument("operator", help="who asks: the operator holding it (any id with --supervisor)")
    where = transfer.add_mutually_exclusive_group()
    where.add_argument("--to", dest="to_operator", default="", metavar="OPERATOR")
    where.add_argument("--team", dest="to_team", default="")
    transfer.add_argument("--reason", default="")
    transfer.add_argument("--supervisor", action="store_true", help="move a conversation one does not hold")
    transfer.add_argument(
        "--override-capacity", action="store_true", help="with --supervisor --to: beyond their capacity"
    )
    grpc_options(transfer)
    transfer.set_defaults(run=cmd_transfer)

    demo = commands.add_parser("demo", help="run the whole system on the embedded broker with demo traffic")
    demo.add_argument("--duration", type=_positive, default=None, help="seconds; ends with a summary")
    demo.add_argument("--rate", type=_positive, default=10.0, help="customer messages per second")
    demo.add_argument("--seed", type=int, default=1)
    demo.set_defaults(run=cmd_demo)

    from pronto_tools.simulate.command import add_arguments

    simulate = commands.add_parser(
        "simulate",
        help="customers writing on every channel and operators answering, against a running Pronto",
        description="Drives a running Pronto only through its public APIs: the channels' signed webhooks "
        "and gRPC. Operators learn of their assignments from notify's operator webhook, so point "
        "notify's operator_default webhook at --inbox-port (see --print-notify-config).",
    )
    add_arguments(simulate, DEFAULT_TARGET, DEFAULT_TOKEN)
    simulate.set_defaults(run=cmd_simulate)

    from pronto_tools.history.command import add_commands

    add_commands(commands, DEFAULT_BOOTSTRAP)
    from pronto_tools.backtest import command as backtest
    from pronto_tools.backtest import staffing_command

    backtest.add_command(commands)
    staffing_command.add_command(commands)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    sys.exit(args.run(args))


if __name__ == "__main__":
    main()
