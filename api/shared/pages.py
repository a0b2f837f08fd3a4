"""Cursor pagination, the same for every list: ``limit`` (at most 100) and ``starting_after``."""

from marshmallow import fields, validate

from api.extensions.smorest import Schema

MAX_PAGE = 100


class PageQuerySchema(Schema):
    """The query of a list; each list adds its own ``starting_after`` (the id of the last item seen)."""

    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE))
