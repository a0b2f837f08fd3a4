"""Webhook fixtures: a real HTTP receiver in this process, and the delivery worker as a real process.

The receiver is ``http.server`` on 127.0.0.1, so the tests run with WEBHOOK_ALLOW_PRIVATE on, the
way development does. The environment is set before any worker process is built, so the ledger
workers, the webhooks worker and beat all see the compressed retry schedule and the test secret.
"""

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api import close_app, create_app
from devtools.processes import Process
from ledger.accept import create_wallet
from ledger.opening import open_balance
from tests.conftest import TEST_CLIENT, with_key
from tests.fixtures.services import HOSTNAME, START_TIMEOUT, LedgerWorkers
from webhooks.endpoints import new_secret
from workers import commands
from workers.app import celery_app

# Ports the receiver may listen on (the first free one is used); TEST_WEBHOOK_PORT moves them.
RECEIVER_PORT = int(os.environ.get("TEST_WEBHOOK_PORT", "8030"))
RECEIVER_PORTS = range(RECEIVER_PORT, RECEIVER_PORT + 10)

# A retry schedule of fractions of a second and a fast poll: a whole retry story fits in a test.
FAST_WEBHOOK_ENV = {
    "WEBHOOK_ALLOW_PRIVATE": "true",
    "WEBHOOK_RETRY_SCHEDULE": "0.2,0.2,0.2",
    "WEBHOOK_POLL_SECONDS": "0.5",
    "WEBHOOK_LEASE_SECONDS": "2",
    "WEBHOOK_TIMEOUT_SECONDS": "10",
}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """Answers each path from a script of statuses (then ``default``), or holds it until released."""

    port: int
    requests: list[Received] = field(default_factory=list)
    # Per path, the answers to give in order: a status, or (status, extra headers).
    scripts: dict[str, list[int | tuple[int, dict]]] = field(default_factory=dict)
    default: int = 200
    hanging: set[str] = field(default_factory=set)
    release: threading.Event = field(default_factory=threading.Event)
    waiting: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def to(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == f"/{path}"]

    def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                pytest.fail(f"receiver: {what} not seen within {timeout:g}s; got {len(self.requests)} requests")
            time.sleep(0.05)

    def answer(self, path: str) -> int | tuple[int, dict] | None:
        """The answer to a request to ``path`` now; None means hold the request open."""
        with self.lock:
            if path.lstrip("/") in self.hanging:
                return None
            script = self.scripts.get(path.lstrip("/"))
            return script.pop(0) if script else self.default


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            answer = receiver.answer(self.path)
            if answer is None:
                with receiver.lock:
                    receiver.waiting += 1
                receiver.release.wait()
                with receiver.lock:
                    receiver.waiting -= 1
                answer = receiver.default
            status, headers = answer if isinstance(answer, tuple) else (answer, {})
            with receiver.lock:
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body, status))
            # The sender may be gone (a killed worker, a timeout): that is its business, not ours.
            with contextlib.suppress(OSError):
                self.send_response(status)
                for name, value in {"content-length": "0", **headers}.items():
                    self.send_header(name, value)
                self.end_headers()

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    for port in RECEIVER_PORTS:
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), None)
            break
        except OSError:
            continue
    else:
        raise RuntimeError(f"no free receiver port in {RECEIVER_PORTS.start}-{RECEIVER_PORTS.stop - 1}")
    recv = Receiver(port)
    server.RequestHandlerClass = _handler(recv)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield recv
    finally:
        recv.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhook_secret() -> str:
    return new_secret()


@pytest.fixture(autouse=True)
def webhook_env(monkeypatch: pytest.MonkeyPatch, webhook_secret: str) -> dict[str, str]:
    """The webhook settings of this test, for every process it starts from now (the API in this
    process gets them through its config, see ``app``).

    Autouse, so it is in place before any fixture builds a worker process (which copies the
    environment when it is built).
    """
    env = {**FAST_WEBHOOK_ENV, "WEBHOOK_SECRET": webhook_secret}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


class WebhooksWorker:
    """The delivery worker as ``make dev`` runs it: its own process, a thread pool, the webhooks queue."""

    def __init__(self, log_dir: Path) -> None:
        self.name = f"webhooks@{HOSTNAME}"
        self.process = Process(commands.webhooks_worker(), log_dir / "webhooks.log")

    def start(self) -> None:
        self.process.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not celery_app.control.ping(destination=[self.name], timeout=0.5):
            if not self.process.running or time.monotonic() >= deadline:
                pytest.fail(f"{self.name} did not start:\n{self.process.log_tail()}")

    def kill(self) -> None:
        self.process.kill()

    def stop(self) -> None:
        self.process.stop()


@pytest.fixture
def webhooks_worker(webhook_env: dict, clean_redis: redis.Redis, tmp_path: Path) -> Iterator[WebhooksWorker]:
    worker = WebhooksWorker(tmp_path)
    try:
        worker.start()
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def webhook_system(webhook_env, ledger_workers: LedgerWorkers, webhooks_worker: WebhooksWorker, beat: Process):
    """Everything that moves an event from a decision to a receiver, all real processes."""
    return ledger_workers, webhooks_worker, beat


@pytest.fixture
def funded(session: Session) -> Callable[..., str]:
    """``funded(user_id, balance)``: a user wallet holding ``balance`` cents, committed."""

    def make(user_id: str, balance: int = 0) -> str:
        create_wallet(session, TEST_CLIENT, user_id, "user")
        if balance:
            open_balance(session, TEST_CLIENT, user_id, balance)
        session.commit()
        return user_id

    return make


@pytest.fixture
def app(clean_db: Engine, clean_redis: redis.Redis, database_url: str, webhook_secret: str) -> Iterator[Flask]:
    """The API, in this process, on the test database and broker, signing with this test's secret."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": os.environ["REDIS_URL"],
            "WEBHOOK_SECRET": webhook_secret,
            "WEBHOOK_ALLOW_PRIVATE": True,
            "TESTING": True,
        }
    )
    yield app
    close_app(app)


@pytest.fixture
def client(app: Flask, api_key: str) -> FlaskClient:
    return with_key(app.test_client(), api_key)
