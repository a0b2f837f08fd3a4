"""The system under test, started by the bench itself: gunicorn API, ledger workers, beat, and the baseline.

Every process gets DATABASE_URL, REDIS_URL and API_PORT from the bench, so a run is reproducible and
never touches dev data. Each is a session leader with its output in ``log_dir``; ``System`` is a
context manager that stops them all on the way out, whether the run ended, failed or was
interrupted (Ctrl-C).
"""

import os
import sys
import time
from collections.abc import Callable

import redis

import settings
from bench.config import BenchConfig
from devtools.processes import Process, answers
from workers import commands

START_TIMEOUT = 60.0
# Logs as production has them, in every process the bench starts.
LOG_FORMAT = "json"


class StartupFailed(RuntimeError):
    pass


def flush_redis(url: str) -> None:
    """Empty the bench's Redis db: no message or wake-up key of an earlier run survives."""
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


class System:
    """The API, ``ledger_workers`` ledger worker processes splitting the partitions, beat, and the
    synchronous baseline's gunicorn (bench.baseline) on the same settings as the API."""

    def __init__(self, config: BenchConfig) -> None:
        config.log_dir.mkdir(parents=True, exist_ok=True)
        self.api_url = f"http://127.0.0.1:{config.api_port}"
        env = {
            **os.environ,
            **config.process_env,
            "DATABASE_URL": config.database_url,
            "REDIS_URL": config.redis_url,
            "API_PORT": str(config.api_port),
            "PYTHONUNBUFFERED": "1",
            "LOG_FORMAT": LOG_FORMAT,
        }
        logs = config.log_dir
        self.baseline_url = f"http://127.0.0.1:{config.baseline_port}"
        # Metrics as production has them: the API's gunicorn workers summed through
        # prometheus-client's multiprocess files. The baseline has none.
        api_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(logs / "prometheus")}
        self.api = Process(_gunicorn("api.wsgi:app"), logs / "api.log", api_env)
        self.baseline = Process(
            _gunicorn("bench.baseline.app:app"), logs / "baseline.log", {**env, "API_PORT": str(config.baseline_port)}
        )
        self.workers = [
            Process(
                commands.ledger_worker(i, config.ledger_workers, settings.PARTITIONS, log_format=LOG_FORMAT),
                logs / f"ledger{i}.log",
                env,
            )
            for i in range(config.ledger_workers)
        ]
        self.beat = Process(
            commands.beat(str(logs / "celerybeat-schedule"), log_format=LOG_FORMAT), logs / "beat.log", env
        )

    @property
    def processes(self) -> list[Process]:
        return [self.api, *self.workers, self.beat, self.baseline]

    def roles(self) -> dict[str, list[int]]:
        """Session ids per role, for bench.memory and bench.cpu."""
        return {
            "api": [self.api.pid],
            "worker": [w.pid for w in self.workers],
            "beat": [self.beat.pid],
            "baseline": [self.baseline.pid],
        }

    def __enter__(self) -> "System":
        try:
            for process in self.processes:
                process.start()
            for worker in self.workers:
                self._wait(worker, lambda w=worker: " ready." in w.log_text())
            self._wait(self.beat, lambda: "beat: Starting" in self.beat.log_text())
            self._wait(self.api, lambda: answers(f"{self.api_url}/health"))
            self._wait(self.baseline, lambda: answers(f"{self.baseline_url}/health"))
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        # The API first, so nothing new is accepted while the workers finish their batches.
        for process in self.processes:
            process.stop()

    def check_running(self) -> None:
        """Fail loudly if a process died during the run: its numbers would be meaningless."""
        for process in self.processes:
            if not process.running:
                raise StartupFailed(f"{process.name} exited with {process.popen.returncode}:\n{process.log_tail(30)}")

    def _wait(self, process: Process, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready():
            if not process.running:
                raise StartupFailed(f"{process.name} exited with {process.popen.returncode}:\n{process.log_tail(30)}")
            if time.monotonic() > deadline:
                raise StartupFailed(f"{process.name} not ready after {START_TIMEOUT:g}s:\n{process.log_tail(30)}")
            time.sleep(0.1)


def _gunicorn(app: str) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", "api/gunicorn_conf.py", app]
