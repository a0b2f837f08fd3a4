"""Rate limits counted a block at a time (api/extensions/rate_limits/reservations.py), against the
real Redis: each strategy below stands for one API process. Together they never admit more than a
limit in a window, they ask Redis once per block, no block outlives its window, and a window known
to be full is refused without asking Redis until it ends."""

import os
import threading
import time

import redis
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import RedisStorage

from api.extensions.rate_limits import reservations
from api.extensions.rate_limits.reservations import ReservedFixedWindow


def _process() -> ReservedFixedWindow:
    return ReservedFixedWindow(RedisStorage(os.environ["REDIS_URL"]))


def _wait_until_window_ends(client: redis.Redis, stored: str) -> None:
    """Until Redis expires the window's key (a few seconds at most)."""
    deadline = time.monotonic() + 5
    while client.exists(stored) and time.monotonic() < deadline:
        time.sleep(0.01)


def test_processes_together_never_admit_more_than_the_limit(clean_redis: redis.Redis) -> None:
    limit = RateLimitItemPerMinute(1005)  # blocks of 10, the last one granted in part
    processes = [_process() for _ in range(3)]
    admitted: list[int] = []

    def send(process: ReservedFixedWindow) -> None:
        admitted.append(sum(process.hit(limit, "key:1") for _ in range(500)))

    threads = [threading.Thread(target=send, args=(p,)) for p in processes for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Never past the limit; short of it by at most what 12 threads' blocks could hold unused.
    assert 1005 - 12 * 9 <= sum(admitted) <= 1005
    # Once a process learns the window is full it stops asking: the 5,000 refusals left no count
    # beyond a last block per thread.
    assert sum(admitted) <= processes[0].storage.get(limit.key_for("key:1")) <= 1005 + 12 * 10


def test_a_process_asks_redis_once_per_block(clean_redis: redis.Redis) -> None:
    limit = RateLimitItemPerMinute(100_000)  # blocks of 1,000
    process = _process()

    assert all(process.hit(limit, "key:1") for _ in range(1500))

    # Two reservations counted 2,000 in Redis for 1,500 requests: the other 1,498 asked nothing.
    assert process.storage.get(limit.key_for("key:1")) == 2000


def test_small_limits_are_counted_one_request_at_a_time(clean_redis: redis.Redis) -> None:
    limit = RateLimitItemPerMinute(150)
    first, second = _process(), _process()

    admitted = sum(first.hit(limit, "key:1") + second.hit(limit, "key:1") for _ in range(100))

    assert admitted == 150
    # Each process asked once more and learned the window was full; the other 48 refusals were its own.
    assert first.storage.get(limit.key_for("key:1")) == 152


def test_a_block_is_not_used_after_its_window_ends(clean_redis: redis.Redis) -> None:
    limit = RateLimitItemPerSecond(300)  # blocks of 3
    early, late = _process(), _process()
    assert early.hit(limit, "key:1")  # and holds the 2 left of its block
    stored = early.storage.prefixed_key(limit.key_for("key:1"))
    _wait_until_window_ends(clean_redis, stored)
    assert not clean_redis.exists(stored), "the first window never ended"

    # The next window, filled by another process...
    assert sum(late.hit(limit, "key:1") for _ in range(300)) == 300
    # ...has no room left for the block of the window before.
    assert not early.hit(limit, "key:1")


def test_a_process_keeps_a_bounded_number_of_blocks(clean_redis: redis.Redis, monkeypatch) -> None:
    monkeypatch.setattr(reservations, "MAX_BLOCKS", 3)
    limit = RateLimitItemPerMinute(100_000)
    process = _process()

    # A flood of keys (addresses, say) each leaves a block behind...
    assert all(process.hit(limit, f"ip:10.0.0.{n}") for n in range(10))

    # ...but the process holds no more than its bound, and a dropped block only means asking again.
    assert len(process._blocks) <= 3
    assert process.hit(limit, "ip:10.0.0.0")
    assert process.storage.get(limit.key_for("ip:10.0.0.0")) == 2000


def test_a_full_window_is_refused_and_described_without_redis_until_it_ends(clean_redis: redis.Redis) -> None:
    limit = RateLimitItemPerSecond(150)
    process = _process()
    assert sum(process.hit(limit, "key:1") for _ in range(151)) == 150
    stored = process.storage.prefixed_key(limit.key_for("key:1"))

    assert not any(process.hit(limit, "key:1") for _ in range(100))
    reset, remaining = process.get_window_stats(limit, "key:1")

    assert int(clean_redis.get(stored)) == 151
    assert remaining == 0 and time.time() < reset <= time.time() + 1
    _wait_until_window_ends(clean_redis, stored)
    assert process.hit(limit, "key:1"), "the next window is open again"
