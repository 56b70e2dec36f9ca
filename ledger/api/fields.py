"""Fields for money and keys: strict, so that 1.0, "1" and true are not amounts."""

from marshmallow import ValidationError, fields, validate

from ledger import clock
from ledger.domain.lots import LATEST_EXPIRY
from ledger.money import CURRENCY_EXPONENTS, MAX_AMOUNT, MIN_AMOUNT, MoneyError, validate_amount

ORDER_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"


class Amount(fields.Integer):
    """An integer amount in minor units, 1 to 10^12; floats, strings and booleans are refused."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update(
            {"minimum": MIN_AMOUNT, "maximum": MAX_AMOUNT, "description": "minor units"}
        )
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return validate_amount(value)
        except MoneyError as e:
            raise ValidationError(str(e)) from e


def Currency(**kwargs) -> fields.String:  # noqa: N802 - reads like a field class
    return fields.String(validate=validate.OneOf(sorted(CURRENCY_EXPONENTS)), **kwargs)


def OrderId(**kwargs) -> fields.String:  # noqa: N802
    return fields.String(
        validate=validate.Regexp(
            ORDER_ID_PATTERN, error="order_id is 1 to 64 characters of [A-Za-z0-9_.:-]"
        ),
        **kwargs,
    )


class ExpiresAt(fields.AwareDateTime):
    """An `expires_at`: in the future and before year 9999."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment >= LATEST_EXPIRY:
            raise ValidationError("expires_at must be before year 9999")
        if moment <= clock.now():
            raise ValidationError("expires_at must be in the future")
        return moment
