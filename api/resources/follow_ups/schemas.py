"""Bodies of capture, void and reverse: all optional (all of it, by default)."""

from api.extensions.smorest import Schema
from api.shared import fields as domain


class VoidSchema(Schema):
    callback_url = domain.callback_url()


class CaptureSchema(VoidSchema):
    amount = domain.amount(metadata={"description": "Cents to capture, at most the held amount; default all of it"})


class ReverseSchema(VoidSchema):
    amount = domain.amount(metadata={"description": "Cents to reverse; default what is left to reverse"})
