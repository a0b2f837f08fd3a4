"""Load from ``wrk`` (Debian package ``wrk``): a C load generator that leaves the server its CPU.

Each run is a child process of the bench, so its CPU is counted as the load generator's once it has
been waited for (bench.cpu). The Lua scripts in bench/lua/ print one JSON summary line (report.lua).
"""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    errors: dict[str, int]
    p50_ms: float
    p99_ms: float


def available() -> bool:
    return shutil.which("wrk") is not None


def run(url: str, script: str, *, seconds: float, connections: int, threads: int, env: dict) -> WrkResult:
    """wrk closed loop against ``url`` with ``script`` (in bench/lua/) for ``seconds``."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(LUA / script), url]
    done = subprocess.run(
        command, env={**os.environ, "WRK_LUA_DIR": str(LUA), **env}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    return WrkResult(
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        errors={name: count for name, count in summary["errors"].items() if count},
        p50_ms=summary["latency_ms"]["p50"],
        p99_ms=summary["latency_ms"]["p99"],
    )
