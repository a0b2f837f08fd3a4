"""What the API process records: requests by route and status, their duration, accepted transactions.

Under gunicorn these live in ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client reads the variable at
import, as settings.py does), so a scrape answered by any worker sums every worker. A counter's
increment there is a write to a memory-mapped file: cheap enough for every request.
"""

from prometheus_client import Counter, Histogram

# Up to the longest a request may be held open by ``Prefer: wait`` (API_MAX_WAIT_SECONDS, 30 s).
DURATION_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "wallet_http_requests",
    "HTTP requests answered, by route template (not path), method and status",
    ["route", "method", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "wallet_http_request_duration_seconds",
    "Time from the request reaching the app to its answer, by route template and method",
    ["route", "method"],
    buckets=DURATION_BUCKETS,
)
TRANSACTIONS_ACCEPTED = Counter(
    "wallet_transactions_accepted",
    "Transactions recorded as queued (committed), by type; idempotent replays are not counted again",
    ["type"],
)
