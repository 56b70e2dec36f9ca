"""Operators: grants and the trial balance."""

from marshmallow import Schema, fields, validate

from ledger.api.fields import Amount, Currency, ExpiresAt, OrderId
from ledger.api.schemas.common import InputSchema


class GrantCreateSchema(InputSchema):
    order_id = OrderId(required=True)
    amount = Amount(required=True)
    currency = Currency()
    expires_at = ExpiresAt(allow_none=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class GrantSchema(Schema):
    id = fields.UUID(required=True, attribute="lot_id")
    entry_id = fields.String(required=True)
    order_id = fields.String(required=True)
    kind = fields.Constant("bonus", required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    expires_at = fields.DateTime(allow_none=True, required=True)
    reason = fields.String(required=True)
    balance_after = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)


class AccountBalanceSchema(Schema):
    account_id = fields.String(required=True)
    org_id = fields.UUID(allow_none=True, required=True)
    kind = fields.String(required=True)
    currency = fields.String(required=True)
    balance = fields.Integer(required=True)


class TrialBalanceSchema(Schema):
    accounts = fields.List(fields.Nested(AccountBalanceSchema), required=True)
    total = fields.Dict(
        keys=fields.String(), values=fields.Integer(), required=True, attribute="totals"
    )
