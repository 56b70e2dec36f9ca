"""Organisations: create, read, and set the low-balance threshold."""

from marshmallow import Schema, fields, validate

from ledger.api.fields import Currency
from ledger.api.schemas.common import InputSchema
from ledger.money import MAX_AMOUNT


class OrganizationCreateSchema(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    billing_email = fields.Email(required=True)
    currency = Currency(required=True)


class OrganizationSchema(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    billing_email = fields.String(required=True)
    currency = fields.String(required=True)
    stripe_customer_id = fields.String(allow_none=True, required=True)
    low_balance_threshold = fields.Integer(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)


class OrganizationUpdateSchema(InputSchema):
    low_balance_threshold = fields.Integer(
        strict=True,
        required=True,
        allow_none=True,
        validate=validate.Range(min=0, max=MAX_AMOUNT),
        metadata={"description": "minor units of the organisation's currency; null: off"},
    )
