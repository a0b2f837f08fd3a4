"""The system under test, started by the bench itself: fresh database, gunicorn API, ledger workers, beat.

Every process gets DATABASE_URL, REDIS_URL and API_PORT from the bench, so a run is reproducible and
never touches dev data. Each is a session leader with its output in ``log_dir``; ``System`` is a
context manager that stops them all on the way out, whether the run ended, failed or was
interrupted (Ctrl-C).
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis
import requests
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, make_url, text

from bench.config import BenchConfig
from workers.routing import worker_queues

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


class StartupFailed(RuntimeError):
    pass


def fresh_database(url: str) -> None:
    """Drop and create the database of ``url``, then ``alembic upgrade head`` it."""
    recreate_database(url)
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def recreate_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def flush_redis(url: str) -> None:
    """Empty the bench's Redis db: no message or wake-up key of an earlier run survives."""
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


class Process:
    """One child in its own session, so a signal to its group reaches its forked workers too."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.env = env
        self.popen: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.popen = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def stop(self) -> None:
        """SIGTERM (gunicorn and Celery shut down warm), then SIGKILL whatever is left."""
        if self.popen is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.popen.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.popen.wait()
        # Forked children can outlive their parent by a moment; they are still in its group.
        self._signal(signal.SIGKILL)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)


class System:
    """The API, ``ledger_workers`` ledger worker processes splitting the partitions, and beat."""

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
        }
        logs = config.log_dir
        self.api = Process(
            "api",
            [sys.executable, "-m", "gunicorn", "-c", "api/gunicorn_conf.py", "api.wsgi:app"],
            logs / "api.log",
            env,
        )
        self.workers = [
            Process(
                f"ledger{i}",
                _celery(
                    "worker",
                    "-Q",
                    worker_queues(i, config.ledger_workers),
                    "--pool",
                    "prefork",
                    "--concurrency",
                    "1",
                    "-n",
                    f"ledger{i}@%h",
                    "--loglevel",
                    "INFO",
                    # Nothing to synchronise with at startup; these only slow the start down.
                    "--without-mingle",
                    "--without-gossip",
                ),
                logs / f"ledger{i}.log",
                env,
            )
            for i in range(config.ledger_workers)
        ]
        self.beat = Process(
            "beat",
            _celery("beat", "-s", str(logs / "celerybeat-schedule"), "--loglevel", "INFO"),
            logs / "beat.log",
            env,
        )

    @property
    def processes(self) -> list[Process]:
        return [self.api, *self.workers, self.beat]

    def roles(self) -> dict[str, list[int]]:
        """Session ids per role, for bench.memory."""
        return {"api": [self.api.pid], "worker": [w.pid for w in self.workers], "beat": [self.beat.pid]}

    def __enter__(self) -> "System":
        try:
            for process in self.processes:
                process.start()
            for worker in self.workers:
                self._wait(worker, lambda w=worker: " ready." in w.log_text())
            self._wait(self.beat, lambda: "beat: Starting" in self.beat.log_text())
            self._wait(self.api, self._api_answers)
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
                raise StartupFailed(f"{process.name} exited with {process.popen.returncode}:\n{_tail(process)}")

    def _api_answers(self) -> bool:
        try:
            return requests.get(f"{self.api_url}/health", timeout=1).ok
        except requests.ConnectionError:
            return False

    def _wait(self, process: Process, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready():
            if not process.running:
                raise StartupFailed(f"{process.name} exited with {process.popen.returncode}:\n{_tail(process)}")
            if time.monotonic() > deadline:
                raise StartupFailed(f"{process.name} not ready after {START_TIMEOUT:g}s:\n{_tail(process)}")
            time.sleep(0.1)


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "workers.app", *args]


def _tail(process: Process, lines: int = 30) -> str:
    return "\n".join(process.log_text().splitlines()[-lines:])
