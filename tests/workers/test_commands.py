"""The command lines of the workers package; Flower never starts without credentials."""

import os
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT
from workers import commands

FLOWER_PORT = 5581


@pytest.mark.parametrize("basic_auth", ["", "admin", "admin:", ":secret"])
def test_flower_needs_a_user_and_a_password(basic_auth: str) -> None:
    with pytest.raises(commands.MissingCredentials, match="FLOWER_BASIC_AUTH"):
        commands.flower(FLOWER_PORT, "127.0.0.1", basic_auth)


def test_flower_gets_its_credentials() -> None:
    assert "--basic-auth=admin:secret" in commands.flower(FLOWER_PORT, "127.0.0.1", "admin:secret")


@pytest.mark.parametrize(("log_format", "quiet"), [("json", True), ("text", False)])
def test_celery_banner_only_where_the_started_process_logs_text(log_format: str, quiet: bool) -> None:
    """What decides is the format of the process started, not of the one starting it (the bench's)."""
    argvs = [
        commands.ledger_worker(0, 1, 16, log_format=log_format),
        commands.webhooks_worker(log_format=log_format),
        commands.beat("schedule", log_format=log_format),
        commands.flower(FLOWER_PORT, "127.0.0.1", "admin:secret", log_format=log_format),
    ]
    assert [("--quiet" in argv) for argv in argvs] == [quiet] * len(argvs)


def test_python_m_workers_flower_without_credentials_exits_at_once_and_listens_nowhere() -> None:
    env = {**os.environ, "FLOWER_BASIC_AUTH": "", "FLOWER_PORT": str(FLOWER_PORT)}
    started = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "-m", "workers", "flower"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert finished.returncode == 2
    assert "FLOWER_BASIC_AUTH" in finished.stderr
    assert time.monotonic() - started < 10
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", FLOWER_PORT)) != 0


def test_flower_listens_on_loopback_by_default() -> None:
    env = {k: v for k, v in os.environ.items() if k != "FLOWER_ADDRESS"}
    finished = subprocess.run(
        [sys.executable, "-c", "import settings; print(settings.FLOWER_ADDRESS)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert finished.stdout.strip() == "127.0.0.1"
