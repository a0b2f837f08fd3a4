"""Peak resident memory of the processes the bench started, and of every child they forked.

Each role (API, ledger workers, beat) is started as a session leader, so its gunicorn workers and
Celery pool children share its session id: one scan of /proc finds them all, however deep.
The peak is the kernel's own high-water mark (VmHWM), reset at the start of each workload
(``clear_refs`` 5) so every workload reports its own peak; it is sampled while the workload runs
so a child that exits mid-run is not lost.
"""

import contextlib
from pathlib import Path

PROC = Path("/proc")


def session_members(session_ids: set[int]) -> dict[int, int]:
    """pid -> session id of every live process in one of ``session_ids``."""
    members = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces or parentheses: fields start after its last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        session = int(fields[3])
        if session in session_ids:
            members[int(entry.name)] = session
    return members


def peak_kib(pid: int) -> int | None:
    """VmHWM of ``pid`` in KiB, or None if it is gone."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak(pid: int) -> None:
    """Set the high-water mark back to the current RSS (Linux >= 4.0); harmless if refused."""
    with contextlib.suppress(OSError):
        (PROC / str(pid) / "clear_refs").write_text("5")


class PeakMemory:
    """Largest VmHWM seen per role since the last ``reset``, in MiB."""

    def __init__(self, roles: dict[str, list[int]]) -> None:
        # role -> session ids (the pids of the processes the bench started for that role)
        self.roles = roles
        self.peaks: dict[str, int] = {}

    def reset(self) -> None:
        self.peaks = {role: 0 for role in self.roles}
        for pid in session_members(self._all_sessions()):
            reset_peak(pid)

    def sample(self) -> None:
        role_of = {session: role for role, sessions in self.roles.items() for session in sessions}
        for pid, session in session_members(set(role_of)).items():
            peak = peak_kib(pid)
            if peak is not None:
                role = role_of[session]
                self.peaks[role] = max(self.peaks.get(role, 0), peak)

    def megabytes(self) -> dict[str, float]:
        return {role: round(kib / 1024, 1) for role, kib in self.peaks.items()}

    def _all_sessions(self) -> set[int]:
        return {session for sessions in self.roles.values() for session in sessions}
