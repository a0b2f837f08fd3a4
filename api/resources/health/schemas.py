"""Health answers."""

from marshmallow import fields

from api.extensions.smorest import Schema


class HealthSchema(Schema):
    status = fields.String(metadata={"example": "ok"})


class ReadySchema(Schema):
    status = fields.String(metadata={"example": "ready"})
    checks = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"example": {"database": "ok", "redis": "ok"}}
    )
