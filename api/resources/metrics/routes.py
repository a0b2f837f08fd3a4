"""Prometheus' scrape: the API's own metrics and the ledger's state, in the text format."""

from flask import Response, current_app
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

from api.extensions.database import db_connection
from api.extensions.smorest import Blueprint
from ledger.enums import Scope
from observability.metrics.scrape import LedgerState, render

blp = Blueprint("metrics", __name__, description="Prometheus metrics")


@blp.route("/metrics", methods=["GET"])
@blp.requires(Scope.METRICS_READ)
@blp.response(
    200,
    content_type="text/plain",
    description="The Prometheus text exposition format, version 0.0.4 (docs/deploy.md, Metrics)",
)
def metrics():
    """Requests, accepted transactions and the ledger's queue and webhook state; for Prometheus."""
    state = LedgerState(db_connection(), current_app.config["PARTITIONS"])
    body = render(state, current_app.config["PROMETHEUS_MULTIPROC_DIR"])
    return Response(body, 200, content_type=CONTENT_TYPE_PLAIN_0_0_4)
