"""The plot writer on a small made-up results document: no system, no database."""

from pathlib import Path

from bench.plots import APPLIED_PNG, LATENCY_PNG, write_plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _workload(applied: list[int], quantiles: list[float]) -> dict:
    return {
        "applied_per_s": sum(applied) / len(applied),
        "p50_ms": quantiles[len(quantiles) // 2],
        "p99_ms": quantiles[-2],
        "applied_per_second": applied,
        "latency_ms_quantiles": quantiles,
    }


def test_write_plots_writes_both_pngs_next_to_the_results(tmp_path: Path) -> None:
    document = {
        "system": {"seconds": 3, "wallets": 40},
        "workloads": {
            "single_uniform": _workload([120, 300, 310, 40], [0.0, 20.0, 60.0, 150.0, 400.0]),
            "batch_uniform": _workload([0, 5000, 7000, 0], [300.0, 800.0, 1500.0, 2500.0, 3100.0]),
            # Not a money workload: no series, and the plots leave it out.
            "reads": {"health": {"per_s": 1000.0}},
        },
    }

    paths = write_plots(document, tmp_path / "results")

    assert paths == [tmp_path / "results" / APPLIED_PNG, tmp_path / "results" / LATENCY_PNG]
    for path in paths:
        assert path.read_bytes().startswith(PNG_SIGNATURE), path
