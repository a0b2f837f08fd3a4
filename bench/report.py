"""The results: one JSON document (bench/results/latest.json) and the tables printed from it.

The last lines hold each target of docs/performance.md against what this run measured.
"""

import json
from pathlib import Path

ROLES = ("api", "worker", "beat", "baseline", "postgres", "redis", "loadgen", "total")

MONEY = (
    ("workload", "{}", None),
    ("gen", "{}", "load_generator"),
    ("txns", "{:,}", "transactions"),
    ("asked/s", "{:,.0f}", "asked_per_s"),
    ("offered/s", "{:,.0f}", "offered_per_s"),
    ("accepted/s", "{:,.0f}", "accepted_per_s"),
    ("applied/s", "{:,.0f}", "applied_per_s"),
    ("p50 ms", "{:,.1f}", "p50_ms"),
    ("p95 ms", "{:,.1f}", "p95_ms"),
    ("p99 ms", "{:,.1f}", "p99_ms"),
    ("tasks/txn", "{:.4f}", "tasks_per_txn"),
    ("rejected", "{}", "rejected"),
    ("baseline/s", "{:,.0f}", ("baseline", "per_s")),
    ("x baseline", "{:.2f}", "baseline_ratio"),
    ("x pgbench", "{:.2f}", "pgbench_ratio"),
    ("api MB", "{:.0f}", ("rss_mb", "api")),
    ("worker MB", "{:.0f}", ("rss_mb", "worker")),
)

# The share of its asked rate single_paced must offer for its p99 to count: a system too slow for the
# rate holds every request in flight, the client can then send no faster, and a p99 of less than the
# rate asked would look like a p99 of it.
OFFERED_SHARE = 0.95
# (what, met?) for each target, from the document; None when the run did not measure it.
TARGETS = (
    ("single_uniform applied/s >= 1.25x the baseline", lambda w: w["single_uniform"]["baseline_ratio"] >= 1.25),
    ("single_hot applied/s >= 2x the baseline", lambda w: w["single_hot"]["baseline_ratio"] >= 2.0),
    (
        f"single_paced p99 submit->applied <= 100 ms, offered >= {OFFERED_SHARE:.0%} of the rate asked",
        lambda w: (
            w["single_paced"]["p99_ms"] <= 100
            and w["single_paced"]["offered_per_s"] >= OFFERED_SHARE * w["single_paced"]["asked_per_s"]
        ),
    ),
    ("reads: GET /transactions/{id} >= 70% of /health", lambda w: w["reads"]["transaction"]["health_ratio"] >= 0.7),
    ("reads: GET /wallets/{user_id} >= 50% of /health", lambda w: w["reads"]["wallet"]["health_ratio"] >= 0.5),
    ("single_uniform API CPU <= 1.5 ms/txn", lambda w: w["single_uniform"]["cpu_ms_per_txn"]["api"] <= 1.5),
    ("single_uniform PostgreSQL CPU <= 1.0 ms/txn", lambda w: w["single_uniform"]["cpu_ms_per_txn"]["postgres"] <= 1.0),
    ("single_uniform worker CPU <= 0.3 ms/txn", lambda w: w["single_uniform"]["cpu_ms_per_txn"]["worker"] <= 0.3),
    ("batch_uniform applied/s >= 3.5x pgbench", lambda w: w["batch_uniform"]["pgbench_ratio"] >= 3.5),
    (
        "batch_hot applied/s >= 90% of batch_uniform",
        lambda w: w["batch_hot"]["applied_per_s"] >= 0.9 * w["batch_uniform"]["applied_per_s"],
    ),
    ("batch_uniform p99 submit->applied <= 1 s", lambda w: w["batch_uniform"]["p99_ms"] <= 1000),
)


def write(document: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


def table(document: dict) -> str:
    workloads = document["workloads"]
    money = {name: result for name, result in workloads.items() if "applied_per_s" in result}
    lines = _grid([[title for title, _, _ in MONEY]] + [[name, *_cells(r, MONEY[1:])] for name, r in money.items()])
    lines += ["", "CPU ms per transaction, by role (baseline: the synchronous design under the same load)"]
    rows = [["workload", *ROLES]]
    for name, result in money.items():
        rows.append([name] + [_number(result["cpu_ms_per_txn"].get(role)) for role in ROLES])
        if "baseline" in result:
            rows.append([f"  {name} baseline"] + [_number(result["baseline"]["cpu_ms_per_txn"].get(r)) for r in ROLES])
    lines += _grid(rows)
    for name, result in money.items():
        if result.get("retried_requests"):
            lines.append(
                f"{name}: {result['retried_requests']:,} requests told to retry later (503 ledger_behind) and sent"
                f" again; first send to accepted, p99 {result['accepted_p99_ms']} ms"
            )
    if "reads" in workloads:
        lines += ["", "reads (GET, closed loop)"]
        rows = [["path", "requests/s", "p99 ms", "x /health", "CPU ms/request", "x /health by CPU"]]
        for name, read in workloads["reads"].items():
            rows.append(
                [
                    name,
                    _number(read["per_s"], "{:,.0f}"),
                    _number(read["p99_ms"]),
                    _number(read["health_ratio"], "{:.2f}"),
                    _number(read["cpu_ms_per_request"]["total"]),
                    _number(read.get("health_cpu_ratio"), "{:.2f}"),
                ]
            )
        lines += _grid(rows)
    if "poll_only" in workloads.get("poll", {}):
        lines += ["", *poll_lines(workloads["poll"])]
    machine = document["machine"]
    lines += [
        "",
        f"pgbench (tpcb-like): {document['pgbench_tps']:,.0f} tps",
        f"verify: {'ok' if document['verify'] else 'FAILED'} ({document.get('verify_summary', '')})",
        f"machine: {machine['cores']} cores, {machine['memory_mb']:,} MB, Python {machine['python']},"
        f" PostgreSQL {machine['postgres']}, Redis {machine['redis']}",
    ]
    lines += [f"verify: {problem}" for problem in document.get("verify_problems", [])]
    auth = document.get("auth")
    if auth:
        lines.append(
            f"auth (key check + rate limit) adds, per request: API {auth['api_ms_per_request']:.3f} ms CPU,"
            f" Redis {auth['redis_ms_per_request']:.3f} ms, PostgreSQL {auth['postgres_ms_per_request']:.3f} ms"
            f" ({auth['requests']:,} requests)"
        )
    lines += target_lines(workloads)
    if auth:
        met = auth["api_ms_per_request"] + auth["redis_ms_per_request"] < 0.2
        lines.append(f"target auth + rate limit < 0.2 ms CPU per request: {'met' if met else 'MISSED'}")
    return "\n".join(lines)


def poll_lines(poll: dict) -> list[str]:
    """The poll workload: what polling costs the write path, and what a poll costs by role."""
    alone, read = poll["poll_only"], poll["read"]
    write_only = poll["write_only_applied_per_s"]
    lines = [
        "poll (GET /transactions/{id} of just-accepted transactions, beside single_uniform's writers)",
        f"polls/s while writing: {poll['poll_per_s']:,.0f} (p99 {_number(poll['poll_p99_ms'], '{:,.1f}')} ms,"
        f" {poll['polls_per_txn']:,.1f} polls per transaction, errors {poll['poll_http_errors'] or 0})",
        f"write path: {poll['applied_per_s']:,.0f} applied/s with polling"
        + (
            f", {write_only:,.0f} without (single_uniform, this run): {poll['write_ratio']:.2f}x"
            if write_only
            else " (single_uniform did not run: no write-only figure)"
        ),
        f"polls/s alone (decided transactions): {alone['per_s']:,.0f} (p99 {_number(alone['p99_ms'], '{:,.1f}')} ms)",
        "CPU ms per poll, by role (pollers alone)",
    ]
    per_poll = alone["cpu_ms_per_request"]
    lines += _grid([list(ROLES), [_number(per_poll.get(role)) for role in ROLES]])
    lines.append(
        f"the PostgreSQL read of a poll ({read['reads']:,} reads in-process): API side"
        f" {read['api_ms_per_read']:.3f} ms ({_percent(read['api_share'])} of the API's CPU per poll),"
        f" PostgreSQL {read['postgres_ms_per_read']:.3f} ms ({_percent(read['postgres_share'])} of its CPU per poll)"
    )
    return lines


def target_lines(workloads: dict) -> list[str]:
    """Each target, met or MISSED; targets whose workloads did not run are left out."""
    lines = []
    for what, met in TARGETS:
        try:
            verdict = "met" if met(workloads) else "MISSED"
        except (KeyError, TypeError):
            continue
        lines.append(f"target {what}: {verdict}")
    return lines


def _grid(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _align(column: int, cell: str, width: int) -> str:
    return cell.ljust(width) if column == 0 else cell.rjust(width)


def _cells(result: dict, columns: tuple) -> list[str]:
    cells = []
    for _, fmt, key in columns:
        value = result.get(key[0], {}).get(key[1]) if isinstance(key, tuple) else result.get(key)
        if isinstance(value, dict):
            cells.append(",".join(f"{code}:{count}" for code, count in value.items()) or "0")
        else:
            cells.append(_number(value, fmt))
    return cells


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def _number(value, fmt: str = "{:.3f}") -> str:
    return "-" if value is None else fmt.format(value)
