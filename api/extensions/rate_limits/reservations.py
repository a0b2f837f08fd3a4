"""A fixed window counted in Redis a block at a time: the strategy every API process limits with.

Counting each request in Redis costs the API a round trip, which was most of what a key check and
a rate limit together cost a request. Instead each process reserves a block of a limit's window
from the shared count (``BLOCK_SHARE`` of the limit, at least one request) and admits from it
without asking Redis again until the block is used up or its window ends.

The guarantee is the plain fixed window's: across every process, a key is never admitted more than
its limit in one window. Every admitted request was counted in Redis, inside a block, before it was
admitted; a block is never granted past the limit; and it is used only while the window it was
counted in surely lasts (its end is taken from Redis's own expiry, less the round trip). The price
is on the other side: a process may still hold part of a block when the window fills (of a few, if
its threads reserved at the same moment), so a key can be refused that many requests short of its
limit: about 1 % of it per process. A limit under 200 requests per window has blocks of one
request, counted exactly as by the plain window.

A window that had no room left stays full until it ends (counts only grow within one), so once a
process has been refused a block it refuses the key's requests, and answers their 429's headers,
without asking Redis again until then: a client hammering past its limit costs no round trips.
"""

import threading
import time
from dataclasses import dataclass

from limits import RateLimitItem
from limits.storage import RedisStorage, Storage
from limits.strategies import STRATEGIES, FixedWindowRateLimiter
from limits.util import WindowStats

NAME = "fixed-window-reserved"
# A block is this share of a limit: a process holds at most 1 % of a key's window unused.
BLOCK_SHARE = 100
# Blocks a process keeps at most (one per key and limit); past that, ended ones go, then all (a
# dropped block only refuses sooner, so a flood of addresses cannot fill memory).
MAX_BLOCKS = 10_000
# Count a block into the key's window (opened with its expiry if new) and say when the window ends.
RESERVE = """
local count = redis.call("incrby", KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {count, redis.call("pttl", KEYS[1])}
"""


@dataclass(slots=True)
class _Block:
    left: int
    ends: float
    # The window had no room left for this process: nothing more is granted in it.
    full: bool = False


class ReservedFixedWindow(FixedWindowRateLimiter):
    """``FixedWindowRateLimiter`` whose hits are taken from blocks reserved in Redis."""

    def __init__(self, storage: Storage) -> None:
        super().__init__(storage)
        self._blocks: dict[str, _Block] = {}
        self._lock = threading.Lock()
        # The in-memory fallback storage has no Redis to reserve from: it counts plainly.
        self._reserve = storage.get_connection().register_script(RESERVE) if isinstance(storage, RedisStorage) else None

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        if self._reserve is None:
            return super().hit(item, *identifiers, cost=cost)
        key = item.key_for(*identifiers)
        with self._lock:
            block = self._blocks.get(key)
            if block is not None and time.monotonic() < block.ends:
                if block.left >= cost:
                    block.left -= cost
                    return True
                if block.full:
                    return False
        size = max(cost, item.amount // BLOCK_SHARE)
        asked = time.monotonic()
        count, ttl_ms = self._reserve([self.storage.prefixed_key(key)], [item.get_expiry(), size])
        granted = min(size, max(0, item.amount - (count - size)))
        admitted = granted >= cost
        self._keep(key, granted - cost if admitted else 0, asked + ttl_ms / 1000, full=not admitted)
        return admitted

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        """A window this process knows is full answers from here (the 429's headers); others from Redis."""
        key = item.key_for(*identifiers)
        with self._lock:
            block = self._blocks.get(key)
            left = block.ends - time.monotonic() if block is not None and block.full else 0.0
        if left > 0:
            return WindowStats(time.time() + left, 0)
        return super().get_window_stats(item, *identifiers)

    def _keep(self, key: str, left: int, ends: float, *, full: bool) -> None:
        """Keep what is left of a block, or that the window is full; with another thread's block of
        the same window, as one."""
        if not left and not full:
            return
        with self._lock:
            now = time.monotonic()
            block = self._blocks.get(key)
            if block is not None and now < block.ends:
                # Still inside the other block's window when this one was granted: the same window.
                block.left += left
                block.ends = min(block.ends, ends)
                block.full = block.full or full
                return
            if len(self._blocks) >= MAX_BLOCKS:
                self._blocks = {k: b for k, b in self._blocks.items() if now < b.ends}
                if len(self._blocks) >= MAX_BLOCKS:
                    self._blocks.clear()
            self._blocks[key] = _Block(left, ends, full)


STRATEGIES[NAME] = ReservedFixedWindow
