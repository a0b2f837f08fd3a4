"""The app's send side of the queue: wake-ups to the workers, built from the app's own config."""

from flask import Flask, current_app

from workers.wakeups import Wakeups


def init_wakeups(app: Flask) -> None:
    app.extensions["wakeups"] = Wakeups(
        app.config["REDIS_URL"],
        publish_timeout=app.config["BROKER_PUBLISH_TIMEOUT_SECONDS"],
        ttl=app.config["WAKE_TTL_SECONDS"],
    )


def wakeups() -> Wakeups:
    return current_app.extensions["wakeups"]
