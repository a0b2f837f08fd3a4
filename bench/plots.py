"""PNG plots of a bench run, drawn from its results document and written next to it.

``applied_per_second.png``: applied transactions per second over each workload's time, where the
single applied/s figure hides a slow start, a stall, or the workers catching up after the load
stops. ``latency.png``: the submit -> decided distribution of each workload as a CDF on a log
axis (single requests decide in tens of milliseconds, batches in seconds), p50 and p99 marked.
Only the document is read, so a plot can be redrawn from any saved ``latest.json``.
"""

from pathlib import Path

import matplotlib

# Agg draws to files only: the bench runs on servers and in CI, with no display. Chosen before
# pyplot is imported, which would otherwise look for one.
matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

APPLIED_PNG = "applied_per_second.png"
LATENCY_PNG = "latency.png"
SIZE_INCHES = (9, 5)
DPI = 100


def write_plots(document: dict, directory: Path) -> list[Path]:
    """Write both plots of ``document`` into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    money = {name: result for name, result in document["workloads"].items() if "applied_per_second" in result}
    paths = []
    for name, draw in ((APPLIED_PNG, _applied), (LATENCY_PNG, _latency)):
        figure = plt.figure(figsize=SIZE_INCHES, dpi=DPI)
        try:
            draw(figure, money, document)
            figure.tight_layout()
            figure.savefig(directory / name)
        finally:
            plt.close(figure)
        paths.append(directory / name)
    return paths


def _applied(figure: Figure, money: dict[str, dict], document: dict) -> None:
    axes = figure.add_subplot()
    for name, result in money.items():
        counts = result["applied_per_second"]
        if counts:
            axes.plot(range(len(counts)), counts, label=f"{name} ({result['applied_per_s']:,.0f}/s overall)")
    # Single requests apply hundreds per second, batches thousands: a log axis shows both.
    axes.set_yscale("log")
    axes.set_xlabel("seconds since the workload's first transaction was accepted")
    axes.set_ylabel("transactions applied in that second")
    axes.set_title(f"Applied per second ({_caption(document)})")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")


def _latency(figure: Figure, money: dict[str, dict], document: dict) -> None:
    axes = figure.add_subplot()
    for name, result in money.items():
        values = result["latency_ms_quantiles"]
        if not values:
            continue
        steps = len(values) - 1
        # The 0 ms quantile cannot sit on a log axis; the fastest row is well above it anyway.
        points = [(max(v, 0.1), i / steps) for i, v in enumerate(values)]
        (line,) = axes.plot(
            [v for v, _ in points],
            [f for _, f in points],
            label=f"{name} (p50 {result['p50_ms']:,.0f} ms, p99 {result['p99_ms']:,.0f} ms)",
        )
        axes.plot([result["p50_ms"], result["p99_ms"]], [0.5, 0.99], "o", color=line.get_color())
    axes.set_xscale("log")
    axes.set_ylim(0, 1.01)
    axes.axhline(0.5, color="grey", linewidth=0.5, linestyle=":")
    axes.axhline(0.99, color="grey", linewidth=0.5, linestyle=":")
    axes.set_xlabel("submit -> decided, ms (PostgreSQL's decided_at - created_at)")
    axes.set_ylabel("fraction of the workload's transactions")
    axes.set_title(f"Submit -> decided latency, dots at p50 and p99 ({_caption(document)})")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small", loc="lower right")


def _caption(document: dict) -> str:
    system = document["system"]
    return f"{system['seconds']:g} s per workload, {system['wallets']:,} wallets"
