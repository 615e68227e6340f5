"""The ``pronto simulate`` command line: options, a progress line every few seconds, a summary.

The simulator itself (aiohttp, the gRPC client) is imported only when it runs: every ``pronto``
command builds this parser, and ``pronto topics`` should not pay for it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import grpc

from pronto_tools.simulate.customers import DEFAULT_MIX, LANGUAGES, parse_mix

if TYPE_CHECKING:
    from pronto_tools.simulate.run import SimulationOptions, TrafficStats

PROGRESS_EVERY_S = 2.0


def positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {value}")
    return number


def _share(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return number


def _mix(value: str) -> dict[str, float]:
    try:
        return parse_mix(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _port(value: str) -> int:
    number = int(value)
    if not 0 < number < 65536:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, got {value}")
    return number


def _languages(value: str) -> list[str]:
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    unknown = set(chosen) - set(LANGUAGES)
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose among {', '.join(LANGUAGES)}; got {value!r}")
    return chosen


def _handling(value: str) -> tuple[float, float]:
    low, _, high = value.partition(",")
    try:
        pair = (float(low), float(high or low))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected MIN,MAX seconds, got {value!r}") from exc
    if not 0 <= pair[0] <= pair[1]:
        raise argparse.ArgumentTypeError(f"expected 0 <= MIN <= MAX, got {value!r}")
    return pair


def add_arguments(parser: argparse.ArgumentParser, target: str, token: str) -> None:
    parser.add_argument("--target", default=target, help="ingest's gRPC address (env PRONTO_INGEST_TARGET)")
    parser.add_argument("--http", default="http://127.0.0.1:8080", help="ingest's HTTP address (webhooks)")
    parser.add_argument("--tenant", default="demo-shop")
    parser.add_argument("--token", default=token, help="the tenant's bearer token (env PRONTO_TOKEN)")
    parser.add_argument(
        "--channel-secrets",
        type=Path,
        help="JSON file with the tenant's channel secrets as ingest has them (default: the demo shop's)",
    )
    parser.add_argument("--rate", type=positive, default=20.0, help="customer messages per second")
    parser.add_argument("--duration", type=positive, default=60.0, help="seconds; it always stops by itself")
    parser.add_argument(
        "--channels",
        type=_mix,
        default=dict(DEFAULT_MIX),
        help="channel mix as weights, e.g. web_chat=3,email=1,telegram (default: a shop's usual mix)",
    )
    parser.add_argument("--languages", type=_languages, default=list(LANGUAGES), help="e.g. it,pl,en")
    parser.add_argument("--operators", type=int, default=8, help="operators in the team")
    parser.add_argument("--capacity", type=int, default=3, help="conversations per operator and channel")
    parser.add_argument("--handling", type=_handling, default=(1.0, 6.0), help="MIN,MAX seconds to answer")
    parser.add_argument("--grpc-share", type=_share, default=0.2, help="share of messages sent over gRPC")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--inbox-port", type=_port, default=8090, help="where notify's webhooks are received")
    parser.add_argument(
        "--team-prefix",
        default="sim-",
        help="prefix of the simulated operators' ids, apart from any other team of the shop (default sim-)",
    )
    parser.add_argument(
        "--print-notify-config",
        action="store_true",
        help="print the PRONTO_NOTIFY_SHOPS value that sends notify's webhooks to this simulator, and exit",
    )


def options_from(args: argparse.Namespace) -> SimulationOptions:
    from pronto_tools.simulate.run import DEMO_CHANNEL_SECRETS, SimulationOptions

    secrets = DEMO_CHANNEL_SECRETS
    if args.channel_secrets:
        secrets = json.loads(args.channel_secrets.read_text())
    return SimulationOptions(
        grpc_target=args.target,
        http_url=args.http.rstrip("/"),
        tenant=args.tenant,
        token=args.token,
        channel_secrets=secrets,
        rate=args.rate,
        duration=args.duration,
        seed=args.seed,
        mix=args.channels,
        languages=args.languages,
        operators=args.operators,
        capacity=args.capacity,
        grpc_share=args.grpc_share,
        handling_s=args.handling,
        inbox_port=args.inbox_port,
        team_prefix=args.team_prefix,
    )


def simulate(args: argparse.Namespace) -> int:
    if args.operators < 1 or args.capacity < 1:
        print("error: --operators and --capacity must be at least 1", file=sys.stderr)
        return 2
    if args.print_notify_config:
        from pronto_tools.simulate.inbox import Inbox

        print(json.dumps({args.tenant: Inbox.shop_config(args.inbox_port, "UTC")}))
        return 0
    try:
        stats = asyncio.run(_simulate(options_from(args)))
    except grpc.aio.AioRpcError as exc:
        print(f"error: ingest at {args.target} answered {exc.code().name}: {exc.details()}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # Refusals are reported (the summary says why); a run where something was refused is not a success.
    return 0 if stats.accepted and not sum(stats.refused.values()) else 1


async def _simulate(options: SimulationOptions) -> TrafficStats:
    from pronto_tools.simulate.run import Simulation

    simulation = Simulation(options)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, simulation.stop.set)
    async with simulation:
        print(
            f"simulating {options.rate:g} messages/s for {options.duration:g} s against "
            f"{options.http_url} and {options.grpc_target}; notify's webhooks expected on "
            f"http://127.0.0.1:{simulation.inbox.port}",
            flush=True,
        )
        traffic = asyncio.create_task(simulation.run())
        while not traffic.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(traffic), PROGRESS_EVERY_S)
            print(simulation.progress(), flush=True)
    print(simulation.summary(), flush=True)
    return simulation.stats
