"""The asyncio load generator: one loop, one aiohttp session, a bounded number of requests in flight.

Used where wrk cannot serve: the open-loop paced workload, the batches (bodies of 1,000 items), a
run capped at a number of transactions, and a machine without wrk. It is deliberately light (no
per-request bookkeeping beyond counters and one float, answers read but not parsed) because on a
2-core machine every cycle the client spends is a cycle the server does not get. Submit -> applied
is read from the rows themselves (bench.outcomes); here only how long each request took to be
accepted, which holds the waits of a batch told to retry later.
"""

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp

from bench.workloads import RequestFactory

TICK_SECONDS = 0.5
REQUEST_TIMEOUT_SECONDS = 60.0


@dataclass
class LoadResult:
    requests: int = 0
    # transactions in requests answered 2xx (202 for the API's money routes)
    accepted: int = 0
    # transactions handed out to requests so far (the BENCH_TRANSACTIONS cap counts these)
    allotted: int = 0
    # failed requests by "HTTP <status>" or exception name
    failures: Counter = field(default_factory=Counter)
    # 503 answers with Retry-After (a batch while the ledger is behind), each waited out and sent
    # again with the same body and Idempotency-Key, as a client should
    retried: int = 0
    # seconds from each accepted request's first send to its 2xx answer, retries and waits included
    answered_in: list[float] = field(default_factory=list)
    started: float = 0.0
    # when the last request was handed out, and when the last answer came back (event loop clock)
    sent_until: float = 0.0
    finished: float = 0.0

    @property
    def seconds(self) -> float:
        return max(self.finished - self.started, 1e-9)


Tick = Callable[[LoadResult], None]


async def offer_at_rate(
    base_url: str,
    next_request: RequestFactory,
    *,
    rate: float,
    seconds: float,
    cap: int | None,
    in_flight: int,
    on_tick: Tick,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """Send one-transaction requests on a fixed schedule (request i at start + i/rate)."""
    result = LoadResult()
    async with _client(in_flight, headers) as session, _ticking(result, on_tick):
        loop = asyncio.get_running_loop()
        slots = asyncio.Semaphore(in_flight)
        pending: set[asyncio.Task] = set()

        def done(task: asyncio.Task) -> None:
            pending.discard(task)
            slots.release()

        result.started = loop.time()
        while cap is None or result.allotted < cap:
            due = result.started + result.allotted / rate
            if due - result.started >= seconds:
                break
            if (delay := due - loop.time()) > 0:
                await asyncio.sleep(delay)
            # Behind schedule with every slot taken: wait, then catch up; offered_per_s shows it.
            await slots.acquire()
            path, body = next_request(1)
            result.allotted += 1
            result.sent_until = loop.time()
            task = asyncio.create_task(_send(session, base_url + path, body, 1, result))
            pending.add(task)
            task.add_done_callback(done)
        await asyncio.gather(*pending)
    return result


async def offer_closed(
    base_url: str,
    next_request: RequestFactory,
    *,
    batch_items: int,
    concurrency: int,
    seconds: float | None,
    cap: int | None,
    on_tick: Tick,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """``concurrency`` clients each sending the next request (of ``batch_items`` transactions) as soon
    as the last one is answered. ``headers`` go with every request (the API key)."""
    result = LoadResult()
    async with _client(concurrency, headers) as session, _ticking(result, on_tick):
        loop = asyncio.get_running_loop()
        result.started = loop.time()
        deadline = None if seconds is None else result.started + seconds

        async def client() -> None:
            while deadline is None or loop.time() < deadline:
                count = batch_items if cap is None else min(batch_items, cap - result.allotted)
                if count <= 0:
                    return
                path, body = next_request(count)
                result.allotted += count
                result.sent_until = loop.time()
                await _send(session, base_url + path, body, count, result)

        await asyncio.gather(*(client() for _ in range(concurrency)))
    return result


async def _send(session: aiohttp.ClientSession, url: str, body: dict | None, count: int, result: LoadResult) -> None:
    """POST ``body`` (GET when it is None) and count the answer; a 503 with Retry-After is sent again."""
    result.requests += 1
    if body is not None:
        data = json.dumps(body, separators=(",", ":"))
        # A key per request, as a real client sends one: the accept path pays for idempotency here too.
        headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
    loop = asyncio.get_running_loop()
    first_sent = loop.time()
    try:
        while True:
            request = session.get(url) if body is None else session.post(url, data=data, headers=headers)
            async with request as response:
                # Read to release the connection; the transaction ids in it are not needed.
                await response.read()
                retry_after = response.headers.get("Retry-After")
                if response.status == 503 and retry_after is not None:
                    result.retried += 1
                    await asyncio.sleep(float(retry_after))
                    continue
                if 200 <= response.status < 300:
                    result.accepted += count
                    result.answered_in.append(loop.time() - first_sent)
                else:
                    result.failures[f"HTTP {response.status}"] += 1
                break
    except (aiohttp.ClientError, TimeoutError) as exc:
        result.failures[type(exc).__name__] += 1
    result.finished = loop.time()


def _client(connections: int, headers: dict[str, str] | None) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        headers=headers,
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
    )


@contextlib.asynccontextmanager
async def _ticking(result: LoadResult, on_tick: Tick) -> AsyncIterator[None]:
    """Call ``on_tick`` every TICK_SECONDS while the load runs, and once more at the end."""

    async def tick() -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            on_tick(result)

    task = asyncio.create_task(tick())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        on_tick(result)
