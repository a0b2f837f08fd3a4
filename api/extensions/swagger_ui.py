"""Swagger UI's scripts and styles, served by the app itself from a pinned package.

``/docs`` (flask-smorest's page) loads them from ``ASSETS_URL``, so the page works without
internet access and shows the same Swagger UI version on every machine.
"""

from flask import Blueprint, Flask
from swagger_ui_bundle import swagger_ui_path

ASSETS_URL = "/docs/assets/"


def init_swagger_ui(app: Flask) -> None:
    assets = Blueprint("swagger_ui", __name__, static_folder=swagger_ui_path, static_url_path=ASSETS_URL.rstrip("/"))
    app.register_blueprint(assets)
