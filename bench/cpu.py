"""CPU seconds by role, read from /proc around a workload: the number to steer by on a shared machine.

Roles are the API (gunicorn master and workers), the ledger workers, beat, the baseline app,
PostgreSQL, Redis and the load generator. The bench's own processes are found by session id
(each was started as a session leader); PostgreSQL's by name, keeping the backends of the bench's
databases and the server's own background processes (checkpointer, WAL writer, autovacuum...),
and leaving out backends of other databases on the same server. A process that starts during the
workload counts whole; one that exits during it is lost (the bench's processes live throughout).
The load generator is this process (the asyncio client) and its finished children (wrk), from
``getrusage``: it includes the bench's own polling while the workers catch up, a little.
"""

import os
import re
import resource
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")
# The pseudo-pid under which the load generator is sampled.
LOADGEN = -1
# HOST(PORT) or [local] in a backend's process title.
CLIENT = re.compile(r"\S+\(\d+\)|\[local\]")


@dataclass(frozen=True)
class Sample:
    # pid -> (role, CPU seconds so far)
    processes: dict[int, tuple[str, float]]

    def __sub__(self, before: "Sample") -> dict[str, float]:
        """CPU seconds per role spent between ``before`` and this sample."""
        spent: dict[str, float] = defaultdict(float)
        for pid, (role, seconds) in self.processes.items():
            earlier = before.processes.get(pid)
            spent[role] += seconds - (earlier[1] if earlier and earlier[0] == role else 0.0)
        return dict(spent)


class Roles:
    """Which process plays which role: session ids per role, and the bench's database names."""

    def __init__(self, sessions: dict[str, list[int]], databases: set[str]) -> None:
        self.sessions = sessions
        self.databases = databases

    def sample(self) -> Sample:
        role_of_session = {sid: role for role, sids in self.sessions.items() for sid in sids}
        processes = {}
        for entry in PROC.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                comm = stat[stat.index("(") + 1 : stat.rindex(")")]
                fields = stat[stat.rindex(")") + 2 :].split()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, ValueError):
                continue
            role = role_of_session.get(int(fields[3])) or self._service(comm, cmdline)
            if role is not None:
                # utime and stime, fields 14 and 15 of /proc/PID/stat (11 and 12 after the command name).
                processes[int(entry.name)] = (role, (int(fields[11]) + int(fields[12])) / TICKS)
        processes[LOADGEN] = ("loadgen", _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN))
        return Sample(processes)

    def _service(self, comm: str, cmdline: str) -> str | None:
        if comm.startswith("redis-server"):
            return "redis"
        if comm != "postgres" and not cmdline.startswith("postgres:"):
            return None
        # A backend's title is "postgres: [CLUSTER: ]USER DATABASE HOST(PORT) STATE": count it only
        # for the bench's databases. Background processes have no HOST(PORT).
        words = cmdline.split()
        client = next((i for i, word in enumerate(words) if CLIENT.fullmatch(word)), None)
        if client is not None and words[client - 1] not in self.databases:
            return None
        return "postgres"


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime
