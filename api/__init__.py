"""The HTTP API: validates requests, records them as queued transactions, and answers 202.

It never changes a balance; the workers do. ``create_app`` is the application factory, and the
one door for configuration: everything a request reads comes from ``app.config``, filled from
``settings`` and then from the ``config`` the caller passes.
"""

from flask import Flask

import settings
from api.extensions.auth import init_auth
from api.extensions.database import Database
from api.extensions.metrics import init_metrics
from api.extensions.rate_limits import init_rate_limits
from api.extensions.request_ids import init_request_ids
from api.extensions.smorest import BEARER_SCHEME, BEARER_SECURITY, Api, document_bounds, document_one_of
from api.extensions.swagger_ui import ASSETS_URL, init_swagger_ui
from api.extensions.wakeups import init_wakeups
from api.resources.follow_ups.routes import blp as follow_ups
from api.resources.health.routes import blp as health
from api.resources.metrics.routes import blp as metrics
from api.resources.movements.routes import blp as movements
from api.resources.transactions.routes import blp as transactions
from api.resources.wallets.routes import blp as wallets
from api.resources.webhooks.routes import blp as webhooks
from api.shared.fields import UserIdConverter, user_id_path_parameter
from api.shared.prefer import init_wait_slots


def settings_config() -> dict:
    """What the API reads of the settings, under the names ``app.config`` holds them."""
    return {
        "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        "PARTITIONS": settings.PARTITIONS,
        "API_THREADS": settings.API_THREADS,
        "API_MAX_WAIT_SECONDS": settings.API_MAX_WAIT_SECONDS,
        "API_MAX_WAITING": settings.API_MAX_WAITING,
        "API_MAX_BATCH_BODY_BYTES": settings.API_MAX_BATCH_BODY_BYTES,
        "API_MAX_BATCH_ITEMS": settings.API_MAX_BATCH_ITEMS,
        "API_BATCH_MAX_QUEUE_AGE_SECONDS": settings.API_BATCH_MAX_QUEUE_AGE_SECONDS,
        "HOLD_DEFAULT_EXPIRES_SECONDS": settings.HOLD_DEFAULT_EXPIRES_SECONDS,
        "HOLD_MAX_EXPIRES_SECONDS": settings.HOLD_MAX_EXPIRES_SECONDS,
        "MAX_CONTENT_LENGTH": settings.API_MAX_BODY_BYTES,
        "BROKER_PUBLISH_TIMEOUT_SECONDS": settings.BROKER_PUBLISH_TIMEOUT_SECONDS,
        "WAKE_TTL_SECONDS": settings.WAKE_TTL_SECONDS,
        "API_RATE_LIMIT": settings.API_RATE_LIMIT,
        "API_KEY_CACHE_SECONDS": settings.API_KEY_CACHE_SECONDS,
        "WEBHOOK_SECRET": settings.WEBHOOK_SECRET,
        "WEBHOOK_ALLOW_PRIVATE": settings.WEBHOOK_ALLOW_PRIVATE,
        "PROMETHEUS_MULTIPROC_DIR": settings.PROMETHEUS_MULTIPROC_DIR,
    }


OPENAPI = {
    "API_TITLE": "Wallet",
    "API_VERSION": "1.0",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": ASSETS_URL,
}


def close_app(app: Flask) -> None:
    """Close what an app holds open: its database pools, its Redis and broker connections."""
    app.extensions["database"].dispose()
    app.extensions["wakeups"].close()
    for limiter in app.extensions["limiter"]:
        limiter.storage.storage.close()


def create_app(config: dict | None = None) -> Flask:
    """Build the app; ``config`` overrides settings (tests pass their own ``DATABASE_URL``, ``REDIS_URL``...)."""
    app = Flask(__name__)
    app.config.from_mapping(settings_config(), **OPENAPI)
    app.config.update(config or {})
    # Keys in the order ledger.representation writes them, not sorted.
    app.json.sort_keys = False
    # First: every other hook, the limiter's and authentication's included, logs under the request id.
    init_request_ids(app)
    Database(app)
    # Before the limiter and the key check: the clock starts before either can refuse the request.
    init_metrics(app)
    init_wakeups(app)
    init_swagger_ui(app)
    init_wait_slots(app)
    # The limiter first: a request without a live key is counted (per IP) before it is refused.
    init_rate_limits(app)
    init_auth(app)
    app.url_map.converters["user_id"] = UserIdConverter
    api = Api(app)
    api.register_converter(UserIdConverter, user_id_path_parameter)
    api.spec.components.security_scheme(BEARER_SCHEME, BEARER_SECURITY)
    api.ma_plugin.converter.add_attribute_function(document_one_of)
    api.ma_plugin.converter.add_attribute_function(document_bounds(app.config))
    for blueprint in (wallets, movements, transactions, follow_ups, health, webhooks, metrics):
        api.register_blueprint(blueprint)
    return app
