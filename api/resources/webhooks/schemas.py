"""What the webhook routes read and answer."""

from marshmallow import fields, validate

from api.extensions.smorest import Schema
from api.shared import fields as domain
from api.shared.pages import PageQuerySchema
from webhooks.models import EndpointStatus, EventType


class EndpointCreateSchema(Schema):
    url = domain.webhook_url(required=True)
    events = fields.List(
        fields.String(validate=validate.OneOf(list(EventType))),
        validate=validate.Length(min=1),
        load_default=None,
        metadata={"description": "Event types to receive; all of them when absent"},
    )
    description = fields.String(validate=validate.Length(max=500), load_default=None)


class EndpointSchema(Schema):
    id = fields.UUID()
    url = fields.String()
    events = fields.List(fields.String(metadata={"enum": list(EventType)}))
    description = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(EndpointStatus), "description": "disabled after a 410 Gone"})
    disabled_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    disabled_at = fields.DateTime(allow_none=True)


class EndpointCreatedSchema(EndpointSchema):
    secret = fields.String(metadata={"description": "whsec_... signing secret: shown in this answer only, never again"})


class EndpointListSchema(Schema):
    webhooks = fields.List(fields.Nested(EndpointSchema))


class DeliveryQuerySchema(PageQuerySchema):
    starting_after = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "Id of the last attempt of the previous page"}
    )


class DeliverySchema(Schema):
    id = fields.Integer()
    attempted_at = fields.DateTime()
    event_type = fields.String(metadata={"enum": list(EventType)})
    transaction_id = fields.UUID()
    webhook_id = fields.String(metadata={"description": "The webhook-id header: the same on every retry"})
    response_status = fields.Integer(allow_none=True, metadata={"description": "HTTP status; null if none came"})
    error = fields.String(allow_none=True, metadata={"description": "Timeout, connection error, refusal..."})
    latency_ms = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True, metadata={"description": "null: nothing more will be tried"})


class DeliveryPageSchema(Schema):
    deliveries = fields.List(fields.Nested(DeliverySchema), metadata={"description": "Newest first"})
    has_more = fields.Boolean()
