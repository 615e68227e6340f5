"""``pronto simulate``: customers writing over every channel and a team answering, for a bounded time.

Everything goes through Pronto's public APIs: customers' messages as each platform's signed
webhook (or, for a share of them, as an integrator's gRPC stream), operators' status, replies and
resolutions over gRPC, and what notify tells people arrives at the simulator's own HTTP inbox.
It never touches Kafka.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp
import grpc

from pronto.grpc_client import ProntoClient
from pronto.v1 import events_pb2, ingest_pb2
from pronto_tools.simulate.channels import webhook_request
from pronto_tools.simulate.customers import DEFAULT_MIX, LANGUAGES, Customers, Written
from pronto_tools.simulate.inbox import Inbox
from pronto_tools.simulate.team import Team, roster

TICK_S = 0.02
MAX_BATCH = 100
WEBHOOK_CONCURRENCY = 64
WEBHOOK_ATTEMPTS = 5  # a platform retries a refused webhook a few times, as Meta and Telegram do
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30)
# The demo shop's channel secrets (the demo gives ingest the same); any real shop has its own.
DEMO_CHANNEL_SECRETS = {
    "shop_key": "demo-shop-key",
    "meta_app_secret": "demo-meta-app-secret",
    "meta_verify_token": "demo-meta-verify",
    "telegram_secret_token": "demo-telegram-secret",
    "viber_auth_token": "demo-viber-token",
    "x_consumer_secret": "demo-x-consumer-secret",
    "email_token": "demo-email-token",
    "mailgun_signing_key": "demo-mailgun-key",
    "twilio_auth_token": "demo-twilio-token",
}


@dataclass
class SimulationOptions:
    grpc_target: str
    http_url: str
    tenant: str
    token: str
    channel_secrets: Mapping[str, str]
    rate: float = 50.0
    duration: float | None = 60.0
    seed: int = 1
    mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    languages: Sequence[str] = LANGUAGES
    operators: int = 8
    capacity: int = 3
    grpc_share: float = 0.2
    handling_s: tuple[float, float] = (1.0, 6.0)
    inbox_port: int = 8090
    # Prefix of the team's operator ids, so that a simulator beside the demo does not command the
    # demo's own operators.
    team_prefix: str = ""
    # Part of every message id (see Customers.run): by default new for every run.
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    # Operators going away and offline during the run (see _breaks).
    a_break: bool = True


@dataclass
class TrafficStats:
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    retried: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    by_channel: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    # Why the run ended before its time (the demo's broker died), or "".
    stopped_early: str = ""

    def percentile(self, q: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1]


OnAccepted = Callable[[str, float], None]  # event id, when ingest answered (perf_counter)


class Simulation:
    def __init__(self, options: SimulationOptions, on_accepted: OnAccepted | None = None) -> None:
        self.options = options
        self.stats = TrafficStats()
        self.customers = Customers(options.seed, options.mix, options.languages, run=options.run)
        self.inbox = Inbox(on_assignment=self._assigned)
        self.team: Team | None = None
        self.stop = asyncio.Event()  # set from outside (Ctrl-C): the run ends early
        self._ending = asyncio.Event()  # this run's own end: its duration, or stop
        self.started = time.monotonic()
        self.on_accepted = on_accepted
        self._random = random.Random(f"route-{options.seed}")
        # What happened to the team, in words, for whoever shows progress.
        self.happenings: list[str] = []

    def _assigned(self, operator_id: str, conversation_id: str, language: str) -> None:
        if self.team is not None:
            self.team.assigned(operator_id, conversation_id, language)

    async def __aenter__(self) -> Simulation:
        """The inbox listens and the team is online: traffic can start."""
        o = self.options
        await self.inbox.start(o.inbox_port)
        self._client = ProntoClient(o.grpc_target, o.token)
        self._http = aiohttp.ClientSession()
        self.team = Team(self._client, roster(o.operators, o.capacity, o.team_prefix), o.seed, o.handling_s)
        try:
            await self.team.come_online()
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self.team is not None:
            await self.team.stop()
        await self._http.close()
        await self._client.close()
        await self.inbox.stop()

    async def run(self) -> TrafficStats:
        """Sends for the duration, or until ``stop`` is set; then waits (bounded) for the last answers.

        It can run again (a benchmark measures twice); the customers go on where they were.
        """
        self.started = time.monotonic()
        self.stats.latencies.clear()
        self._ending = asyncio.Event()
        tasks = {
            asyncio.create_task(self._send(self._client, self._http)),
            asyncio.create_task(self._breaks()),
            asyncio.create_task(self._timer()),
        }
        await self._ending.wait()
        done, pending = await asyncio.wait(tasks, timeout=15)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                failure = f"simulator error: {task.exception()!r}"
                self.stats.refused[failure] += 1
                self.happenings.append(failure)
        return self.stats

    async def _timer(self) -> None:
        """Ends the run after its duration or at ``stop``; without a duration, only ``stop`` ends it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), self.options.duration)
        self._ending.set()

    async def _breaks(self) -> None:
        """One operator takes a break at 40% of the run and is back at 70%; with four or more, the
        last one's shift ends at 60% (offline, not back)."""
        if not self.options.a_break or self.team is None:
            return
        total = self.options.duration or 90.0
        ids = self.team.ids
        schedule = [
            (0.4, ids[0], events_pb2.OPERATOR_STATUS_AWAY, "coffee break"),
            (0.6, ids[-1], events_pb2.OPERATOR_STATUS_OFFLINE, "end of shift"),
            (0.7, ids[0], events_pb2.OPERATOR_STATUS_ONLINE, "back from the break"),
        ]
        for at, operator_id, status, reason in schedule if len(ids) >= 4 else schedule[::2]:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._ending.wait(), max(0.0, self.started + total * at - time.monotonic())
                )
                return
            with contextlib.suppress(Exception):
                await self.team.status(operator_id, status, reason)
                self.happenings.append(f"{operator_id}: {reason}")

    async def _send(self, client: ProntoClient, http: aiohttp.ClientSession) -> None:
        """Paced: at every tick, what fell due since the last one; webhooks in parallel, gRPC as a stream."""
        grpc_queue: asyncio.Queue[Written | None] = asyncio.Queue()
        stream = asyncio.create_task(self._stream(client, grpc_queue))
        window = asyncio.Semaphore(WEBHOOK_CONCURRENCY)
        posts: set[asyncio.Task[None]] = set()
        sent = 0
        while not self._ending.is_set():
            due = int((time.monotonic() - self.started) * self.options.rate)
            while sent < due:
                sent += 1
                written = self.customers.next(time.time())
                self.stats.sent += 1
                self.stats.by_channel[written.customer.channel] += 1
                if self._random.random() < self.options.grpc_share:
                    grpc_queue.put_nowait(written)
                    continue
                await window.acquire()
                post = asyncio.create_task(self._post(http, written))
                post.add_done_callback(lambda _: window.release())
                posts.add(post)
                post.add_done_callback(posts.discard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ending.wait(), TICK_S)
        grpc_queue.put_nowait(None)
        await asyncio.gather(stream, *posts, return_exceptions=True)

    async def _post(self, http: aiohttp.ClientSession, written: Written) -> None:
        o = self.options
        try:
            request = webhook_request(o.tenant, written.message, o.channel_secrets, o.http_url)
        except KeyError as exc:
            self.stats.refused[f"no channel secret {exc} for {written.customer.channel}"] += 1
            return
        for attempt in range(WEBHOOK_ATTEMPTS):
            started = time.perf_counter()
            status = 0  # no answer at all
            try:
                async with http.post(
                    o.http_url + request.path,
                    data=request.body,
                    headers=request.headers,
                    timeout=HTTP_TIMEOUT,
                ) as response:
                    status, body = response.status, await response.json(content_type=None)
                    if status == 200:
                        self._accepted(body["event_ids"], body["duplicates"], started)
                        return
                    retry_after = float(response.headers.get("Retry-After", "1"))
                    reason = f"HTTP {status} {body.get('error', '')}"
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                retry_after, reason = 1.0, type(exc).__name__
            retryable = status == 0 or status == 429 or status >= 500
            if not retryable or attempt == WEBHOOK_ATTEMPTS - 1:
                self.stats.refused[reason] += 1
                return
            self.stats.retried += 1
            await asyncio.sleep(retry_after)

    def _accepted(self, event_ids: Sequence[str], duplicates: int, started: float) -> None:
        now = time.perf_counter()
        self.stats.latencies.append(now - started)
        self.stats.accepted += 1
        self.stats.duplicates += duplicates
        if self.on_accepted is not None:
            for event_id in event_ids:
                self.on_accepted(event_id, now)

    async def _stream(self, client: ProntoClient, queue: asyncio.Queue[Written | None]) -> None:
        """An integrator's PublishStream: the messages given to it, in batches, until None. A broken
        stream is opened again a second later; what it left unanswered counts as "no answer"."""
        sent_at: dict[int, float] = {}
        sequence = attempt = 0
        finished = False

        async def batches(mine: int) -> AsyncIterator[ingest_pb2.PublishStreamRequest]:
            nonlocal sequence, finished
            while not finished:
                batch = ingest_pb2.PublishStreamRequest()
                item = await queue.get()
                if mine != attempt:  # the reader of a stream that broke: the item is the next one's
                    queue.put_nowait(item)
                    return
                while item is not None:
                    sequence += 1
                    batch.events.add(
                        sequence=sequence, request=ingest_pb2.PublishRequest(message_received=item.as_event())
                    )
                    sent_at[sequence] = time.perf_counter()
                    if len(batch.events) >= MAX_BATCH or queue.empty():
                        break
                    item = await queue.get()
                finished = item is None
                if batch.events:
                    yield batch

        while not finished:
            attempt += 1
            try:
                async for response in client.publish_stream(batches(attempt)):
                    for ack in response.acks:
                        started = sent_at.pop(ack.sequence)
                        if ack.code == 0:
                            self._accepted([ack.event_id], ack.duplicate, started)
                        else:
                            self.stats.refused[f"gRPC {ack.message.split(':')[0]}"] += 1
            except grpc.aio.AioRpcError as exc:
                self.stats.refused[f"gRPC stream {exc.code().name}"] += len(sent_at)
                sent_at.clear()
                await asyncio.sleep(1)
        if sent_at:
            self.stats.refused["no answer"] += len(sent_at)

    def progress(self) -> str:
        s, team = self.stats, self.team.counts if self.team else Counter()
        return (
            f"[{time.monotonic() - self.started:6.1f} s] sent {s.sent}  accepted {s.accepted}"
            f"  refused {sum(s.refused.values())}  retried {s.retried}"
            f"  ack p99 {s.percentile(99) * 1000:.0f} ms"
            f"  | assignments heard {team['assignments told']}  replied {team['replied']}"
            f"  resolved {team['resolved']}  | {self.inbox.line()}"
        )

    def _advice(self, team: Counter[str]) -> list[str]:
        if self.stats.accepted and not team["assignments told"]:
            return [
                "  note                the team heard of no assignment: notify's operator webhook must point "
                f"at http://127.0.0.1:{self.inbox.port}/operators (see --print-notify-config)"
            ]
        return []

    def summary(self) -> str:
        s, team = self.stats, self.team.counts if self.team else Counter()
        channels = ", ".join(f"{c} {n}" for c, n in s.by_channel.most_common())
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.inbox.by_kind.items()))
        p50, p99 = s.percentile(50) * 1000, s.percentile(99) * 1000
        return "\n".join(
            (
                f"Simulation summary after {time.monotonic() - self.started:.1f} s",
                f"  messages sent       {s.sent} ({channels})",
                f"  accepted            {s.accepted} ({s.duplicates} duplicates), {s.retried} retries",
                f"  refused             {dict(s.refused) or 0}",
                f"  ack latency         p50 {p50:.1f} ms, p99 {p99:.1f} ms",
                f"  operators           {team['assignments told']} assignments heard, "
                f"{team['replied']} replies, {team['resolved']} resolved",
                f"  notify              {self.inbox.line()}; {kinds or 'nothing yet'}",
                *(f"  happened            {h}" for h in self.happenings),
                *self._advice(team),
            )
        )
