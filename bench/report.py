"""The results: one JSON document (bench/results/latest.json) and the table printed from it."""

import json
from pathlib import Path

# The latency target for single requests: p99 submit -> applied at this offered rate.
TARGET_P99_MS = 250.0
TARGET_RATE = 500.0

COLUMNS = (
    ("workload", "{}", None),
    ("txns", "{:,}", "transactions"),
    ("offered/s", "{:,.0f}", "offered_per_s"),
    ("accepted/s", "{:,.0f}", "accepted_per_s"),
    ("applied/s", "{:,.0f}", "applied_per_s"),
    ("p50 ms", "{:,.1f}", "p50_ms"),
    ("p95 ms", "{:,.1f}", "p95_ms"),
    ("p99 ms", "{:,.1f}", "p99_ms"),
    ("tasks/txn", "{:.4f}", "tasks_per_txn"),
    ("rejected", "{}", "rejected"),
    ("api MB", "{:.0f}", ("rss_mb", "api")),
    ("worker MB", "{:.0f}", ("rss_mb", "worker")),
    ("x pgbench", "{:.2f}", "pgbench_ratio"),
)


def write(document: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


def table(document: dict) -> str:
    rows = [[title for title, _, _ in COLUMNS]]
    for name, result in document["workloads"].items():
        rows.append([name] + [_cell(result, fmt, key) for _, fmt, key in COLUMNS[1:]])
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    machine = document["machine"]
    lines += [
        "",
        f"pgbench (tpcb-like): {document['pgbench_tps']:,.0f} tps",
        f"verify: {'ok' if document['verify'] else 'FAILED'} ({document.get('verify_summary', '')})",
        f"machine: {machine['cores']} cores, {machine['memory_mb']:,} MB, Python {machine['python']},"
        f" PostgreSQL {machine['postgres']}, Redis {machine['redis']}",
    ]
    lines += [f"verify: {problem}" for problem in document.get("verify_problems", [])]
    lines += target_lines(document)
    return "\n".join(lines)


def target_lines(document: dict) -> list[str]:
    """Say plainly whether the latency target was met, and whether the run could even test it."""
    single = document["workloads"].get("single_uniform")
    if single is None or single["p99_ms"] is None:
        return []
    met = single["p99_ms"] <= TARGET_P99_MS
    line = (
        f"target p99 submit->applied <= {TARGET_P99_MS:g} ms at {TARGET_RATE:g} requests/s offered:"
        f" {'met' if met else 'MISSED'} (p99 {single['p99_ms']:,.1f} ms at {single['offered_per_s']:,.0f}/s offered)"
    )
    if single["offered_per_s"] < 0.95 * TARGET_RATE:
        line += " -- offered rate below the target's, so this run does not test it"
    return [line]


def _cell(result: dict, fmt: str, key: str | tuple[str, str]) -> str:
    value = result.get(key[0], {}).get(key[1]) if isinstance(key, tuple) else result.get(key)
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ",".join(f"{code}:{count}" for code, count in value.items()) or "0"
    return fmt.format(value)
