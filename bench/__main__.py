"""``python -m bench`` (``make bench``): the whole system over HTTP, then pgbench; see docs/performance.md.

Knobs (environment, ``BENCH_*``): read in bench/config.py, listed in docs/performance.md. Exits 1
if the ledger's invariants do not hold at the end.
"""

import signal
import sys

from bench.benchmark import run_benchmark
from bench.config import BenchConfig
from bench.report import table


def _interrupt(signum: int, frame: object) -> None:
    # SIGTERM unwinds like Ctrl-C, so the system the bench started is stopped on the way out.
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    config = BenchConfig.from_environment()
    try:
        document = run_benchmark(config)
    except KeyboardInterrupt:
        print("bench interrupted; every process it started has been stopped", file=sys.stderr)
        return 130
    print(table(document))
    print(f"\nresults: {config.results_path} (plots: *.png beside it)", file=sys.stderr)
    return 0 if document["verify"] else 1


if __name__ == "__main__":
    sys.exit(main())
