"""The system's processes run locally, as the bench and the end-to-end tests start them.

Each child is a session leader with its output in a log file, so a signal to its process group
reaches the pool children it forks (Celery prefork, gunicorn workers) too.
"""

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 20.0


class Process:
    """One child process; ``env`` is laid over this process's environment."""

    def __init__(self, command: list[str], log_path: Path, env: dict[str, str] | None = None, name: str = "") -> None:
        self.command = command
        self.log_path = log_path
        self.env = {**os.environ, **(env or {})}
        self.name = name or log_path.stem
        self.popen: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self) -> None:
        # A restarted process (a test starting a killed worker again) appends to its own log.
        mode = "ab" if self.popen is not None else "wb"
        with self.log_path.open(mode) as log:
            self.popen = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self) -> None:
        """SIGKILL the process and its children at once, as a crash or the OOM killer would."""
        self._signal(signal.SIGKILL)
        self.popen.wait()

    def stop(self) -> None:
        """SIGTERM (gunicorn and Celery shut down warm), then SIGKILL what is left after STOP_TIMEOUT."""
        stop_all([self])

    def terminate(self) -> None:
        """Ask for a warm shutdown without waiting for it."""
        if self.popen is None:
            return
        self._signal(signal.SIGTERM)
        self._signal(signal.SIGCONT)  # a paused process acts on SIGTERM only once continued

    def reap(self, timeout: float) -> None:
        """Wait up to ``timeout`` for the process to exit after ``terminate``, then SIGKILL what is left."""
        if self.popen is None:
            return
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.popen.wait()
        # Pool children outlive a killed parent briefly; the session leader's group is theirs too.
        self._signal(signal.SIGKILL)

    def send(self, signum: int) -> None:
        """Send ``signum`` to the process and its children."""
        self._signal(signum)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)


def stop_all(processes: list[Process]) -> None:
    """Stop ``processes`` side by side: each warm shutdown takes about a second, and they overlap."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in processes:
        process.reap(max(0.0, deadline - time.monotonic()))


def answers(url: str) -> bool:
    """``url`` answers a GET with a success status within a second."""
    try:
        return requests.get(url, timeout=1).ok
    # Not listening yet, or too busy starting to answer within the second (a loaded machine).
    except (requests.ConnectionError, requests.Timeout):
        return False
