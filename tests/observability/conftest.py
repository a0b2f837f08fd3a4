"""The webhook fixtures (a receiver, the delivery worker, the API signing with the test's secret):
following a transaction to its webhook needs all of them. ``webhook_env`` is autouse there and here.
"""

import pytest

from tests.webhooks.conftest import app, client, receiver, webhook_env, webhook_secret, webhooks_worker

__all__ = ["app", "client", "json_logs", "receiver", "webhook_env", "webhook_secret", "webhooks_worker"]


@pytest.fixture(autouse=True)
def json_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production's format in every process these tests start (each copies the environment when built)."""
    monkeypatch.setenv("LOG_FORMAT", "json")
