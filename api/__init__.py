"""The HTTP API: validates requests, records them as queued transactions, and answers 202.

It never changes a balance; the workers do. ``create_app`` is the application factory.
"""

from flask import Flask

import settings
from api.extensions.database import Database
from api.extensions.smorest import Api, document_one_of
from api.resources.health.routes import blp as health
from api.resources.transactions.routes import blp as transactions
from api.resources.transfers.routes import blp as transfers
from api.resources.wallets.routes import blp as wallets
from api.resources.webhooks.routes import blp as webhooks


def create_app(config: dict | None = None) -> Flask:
    """Build the app; ``config`` overrides settings (tests pass their own ``DATABASE_URL``)."""
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE_URL=settings.DATABASE_URL,
        REDIS_URL=settings.REDIS_URL,
        PARTITIONS=settings.PARTITIONS,
        API_THREADS=settings.API_THREADS,
        API_MAX_WAIT_SECONDS=settings.API_MAX_WAIT_SECONDS,
        API_MAX_BATCH_BODY_BYTES=settings.API_MAX_BATCH_BODY_BYTES,
        MAX_CONTENT_LENGTH=settings.API_MAX_BODY_BYTES,
        API_TITLE="Wallet",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
    )
    app.config.update(config or {})
    # Keys in the order ledger.representation writes them, not sorted.
    app.json.sort_keys = False
    Database(app)
    api = Api(app)
    api.ma_plugin.converter.add_attribute_function(document_one_of)
    for blueprint in (wallets, transfers, transactions, health, webhooks):
        api.register_blueprint(blueprint)
    return app
