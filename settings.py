"""Every environment variable the system reads, in one place, each with a safe default.

The API, the workers, the ledger CLI and the tests all import from here, so a deployment
is described by its environment alone and nothing else reads ``os.environ``.
"""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/wallet")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

# Partition count is part of the data: each queued row stores the partition it was hashed to.
# Changing it is safe (old rows keep their partition) only while PARTITIONS does not shrink.
PARTITIONS = _int("PARTITIONS", 16)
# 3,000 rather than 1,000: a worker that falls behind catches up in fewer, cheaper commits. With
# 1,000, batches through the API were applied slower than accepted and waited seconds; with
# 2,000 to 5,000 they kept up (docs/performance.md). A drain of single requests is far smaller.
APPLY_BATCH_SIZE = _int("APPLY_BATCH_SIZE", 3000)
# A drain yields its worker after this long so one busy partition cannot starve the others
# served by the same process; it re-wakes itself to carry on.
DRAIN_MAX_SECONDS = _float("DRAIN_MAX_SECONDS", 5.0)
# A drain runs a batch at most this often while batches are not full, so rows gather in between
# (the latency it adds is at most this), and stops after finding nothing for DRAIN_LINGER_SECONDS.
# 30 ms rather than 10: single requests come three times as many to a batch, which halved the
# workers' CPU per transaction and cut PostgreSQL's by a quarter (docs/performance.md).
DRAIN_PACE_SECONDS = _float("DRAIN_PACE_SECONDS", 0.03)
DRAIN_LINGER_SECONDS = _float("DRAIN_LINGER_SECONDS", 0.05)
SWEEP_INTERVAL_SECONDS = _float("SWEEP_INTERVAL_SECONDS", 5.0)
SWEEP_QUEUED_AGE_SECONDS = _float("SWEEP_QUEUED_AGE_SECONDS", 3.0)
WAKE_TTL_SECONDS = _int("WAKE_TTL_SECONDS", 30)
BROKER_VISIBILITY_TIMEOUT = _int("BROKER_VISIBILITY_TIMEOUT", 300)

# One JSON object per line (observability.logs) unless told otherwise: a deployment that forgets
# this variable still gets lines its log pipeline can parse. `make dev` sets text, for a terminal.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json").strip().lower()
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").strip().upper()

# Loopback by default, for a developer's machine; the container image sets 0.0.0.0.
API_HOST = os.environ.get("API_HOST", "127.0.0.1")
API_PORT = _int("API_PORT", 8000)
API_MAX_BODY_BYTES = _int("API_MAX_BODY_BYTES", 64 * 1024)
# The longest a client may ask the API to hold a request open with ``Prefer: wait=N``.
API_MAX_WAIT_SECONDS = _int("API_MAX_WAIT_SECONDS", 30)
# How long the accept path waits for the broker before leaving the wake-up to the sweeper.
BROKER_PUBLISH_TIMEOUT_SECONDS = _float("BROKER_PUBLISH_TIMEOUT_SECONDS", 1.0)

FLOWER_ADDRESS = os.environ.get("FLOWER_ADDRESS", "127.0.0.1")
FLOWER_PORT = _int("FLOWER_PORT", 5555)
FLOWER_BASIC_AUTH = os.environ.get("FLOWER_BASIC_AUTH", "")

WEBHOOK_SECRET = os.environ.get("WEBHOOK_SECRET", "")
WEBHOOK_ALLOW_PRIVATE = _bool("WEBHOOK_ALLOW_PRIVATE", False)
WEBHOOK_TIMEOUT_SECONDS = _float("WEBHOOK_TIMEOUT_SECONDS", 10.0)
# Seconds to wait before each retry; the number of entries is the number of retries.
WEBHOOK_RETRY_SCHEDULE = [
    float(s) for s in os.environ.get("WEBHOOK_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,36000").split(",") if s
]
WEBHOOK_POLL_SECONDS = _float("WEBHOOK_POLL_SECONDS", 2.0)
# A claimed delivery not finished within this long (worker died) is claimed again.
WEBHOOK_LEASE_SECONDS = _float("WEBHOOK_LEASE_SECONDS", 60.0)

# gunicorn: threads let a request held open by `Prefer: wait` leave the others served.
API_WORKERS = _int("API_WORKERS", 2)
API_THREADS = _int("API_THREADS", 8)
# Requests held by `Prefer: wait` at once, per worker process; more are answered at once (202).
# Below API_THREADS, so held requests can never take every thread.
API_MAX_WAITING = _int("API_MAX_WAITING", max(1, API_THREADS // 2))
# Requests per API key (or per IP address, for requests without a live key) unless the key has its
# own limit: <n>/second, <n>/minute or <n>/hour.
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "100/second")
# How long an API process trusts what it learnt of a key: a revoked key works at most this long.
API_KEY_CACHE_SECONDS = _float("API_KEY_CACHE_SECONDS", 2.0)
API_ACCESS_LOG = _bool("API_ACCESS_LOG", False)
# A batch of 1,000 transfers is ~90 KB of JSON, more than API_MAX_BODY_BYTES allows a single request.
API_MAX_BATCH_BODY_BYTES = _int("API_MAX_BATCH_BODY_BYTES", 2 * 1024 * 1024)
API_MAX_BATCH_ITEMS = _int("API_MAX_BATCH_ITEMS", 1000)
# A batch is refused (503 ledger_behind, Retry-After) while the oldest queued transaction is older
# than this: a client that sends batches faster than the workers apply them is told to wait, rather
# than every later transaction (single requests too) waiting behind its backlog. 0: never refused.
API_BATCH_MAX_QUEUE_AGE_SECONDS = _float("API_BATCH_MAX_QUEUE_AGE_SECONDS", 0.75)
# How long a hold waits to be captured or voided before the sweep releases it, unless the request
# says (expires_in), and the longest it may ask for: a card authorization's week, and a month.
HOLD_DEFAULT_EXPIRES_SECONDS = _int("HOLD_DEFAULT_EXPIRES_SECONDS", 7 * 24 * 3600)
HOLD_MAX_EXPIRES_SECONDS = _int("HOLD_MAX_EXPIRES_SECONDS", 30 * 24 * 3600)

# Metrics (docs/deploy.md, "Metrics"). The API's gunicorn workers write theirs in this directory so
# that a scrape of any worker sums them all (prometheus-client's multiprocess mode, which reads the
# variable itself when imported); gunicorn empties it at start. Unset: each process counts alone.
PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
# Each Celery worker serves its own /metrics on this port, 0 for none (the image sets 9100). Two
# workers on one machine (make dev) need a port each.
WORKER_METRICS_ADDRESS = os.environ.get("WORKER_METRICS_ADDRESS", "127.0.0.1")
WORKER_METRICS_PORT = _int("WORKER_METRICS_PORT", 0)
