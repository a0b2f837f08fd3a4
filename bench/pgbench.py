"""PostgreSQL's own ``pgbench`` on the same server in the same run: the yardstick for every ratio.

Built-in TPC-B-like script (five statements and one commit per transaction), on a database of its
own that is dropped and initialised each run, so the ratio compares the wallet to the commit rate
this machine's PostgreSQL reaches unaided.
"""

import os
import re
import shutil
import subprocess

from sqlalchemy import make_url

from devtools.databases import create_database, drop_database

TPS = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)


def pgbench_tps(server_url: str, database: str, *, scale: int, clients: int, threads: int, seconds: float) -> float:
    """Initialise ``database`` at ``scale`` and return the tps of a ``seconds`` long run."""
    executable = shutil.which("pgbench") or "/usr/bin/pgbench"
    url = make_url(server_url).set(database=database)
    drop_database(url)
    create_database(url)
    connection = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = url.password
    _run([executable, "-i", "-q", "-s", str(scale), *connection, database], env)
    output = _run(
        [executable, "-c", str(clients), "-j", str(threads), "-T", str(max(1, round(seconds))), *connection, database],
        env,
    )
    match = TPS.search(output)
    if match is None:
        raise RuntimeError(f"no tps in pgbench output:\n{output}")
    return float(match.group(1))


def _run(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout
