"""Liveness says the process answers; readiness says it can do its job, and names what is down."""

from flask import current_app, jsonify
from kombu import Connection
from redis import Redis
from sqlalchemy import text

from api.extensions.database import db_session
from api.extensions.problems import Problem
from api.extensions.smorest import Blueprint
from api.resources.health.schemas import HealthSchema, ReadySchema
from workers.app import celery_app

blp = Blueprint("health", __name__, description="Liveness and readiness")

CHECK_TIMEOUT_SECONDS = 1.0


@blp.route("/health", methods=["GET"])
@blp.response(200, HealthSchema)
def health():
    """The process is up; nothing else is checked (a dependency being down is /ready's question)."""
    return jsonify({"status": "ok"})


@blp.route("/ready", methods=["GET"])
@blp.response(200, ReadySchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE", description="Names each dependency that is down")
def ready():
    """PostgreSQL answers SELECT 1, Redis answers PING, and at least one worker answers a ping."""
    down = {}
    for name, check in (("database", _database), ("redis", _redis), ("workers", _workers)):
        if name == "workers" and "redis" in down:
            down[name] = ["not checked: the broker is down"]
            continue
        problem = check()
        if problem:
            down[name] = [problem]
    if down:
        raise Problem(503, "not_ready", f"down: {', '.join(down)}", errors=down, headers={"Retry-After": "5"})
    return jsonify({"status": "ready", "checks": {"database": "ok", "redis": "ok", "workers": "ok"}})


def _database() -> str | None:
    session = db_session()
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:
        return f"SELECT 1 failed: {exc.__class__.__name__}"
    finally:
        session.rollback()
    return None


def _redis() -> str | None:
    client = Redis.from_url(
        current_app.config["REDIS_URL"],
        socket_timeout=CHECK_TIMEOUT_SECONDS,
        socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    except Exception as exc:
        return f"PING failed: {exc.__class__.__name__}"
    finally:
        client.close()
    return None


def _workers() -> str | None:
    # A connection of its own each time: a pooled one may be a dead socket from before a Redis
    # restart, and would fail the first probes after it (a load balancer would pull a healthy pod).
    broker = Connection(
        current_app.config["REDIS_URL"],
        connect_timeout=CHECK_TIMEOUT_SECONDS,
        transport_options={"socket_timeout": CHECK_TIMEOUT_SECONDS, "max_retries": 0},
    )
    try:
        # limit=1: the first answer is enough, no need to wait out the timeout for the others.
        replies = celery_app.control.ping(timeout=CHECK_TIMEOUT_SECONDS, limit=1, connection=broker)
    except Exception as exc:
        return f"ping failed: {exc.__class__.__name__}"
    finally:
        broker.release()
    return None if replies else "no worker answered a ping"
