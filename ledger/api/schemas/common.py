"""What every schema shares: inputs refuse unknown fields; list arguments and pages."""

from collections.abc import Mapping

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate


def _storable(value) -> bool:
    """PostgreSQL text and jsonb hold neither NUL nor unpaired surrogates."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return "\x00" not in value
    if isinstance(value, Mapping):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(v) for v in value)
    return True


class InputSchema(Schema):
    class Meta:
        unknown = RAISE

    @pre_load
    def _refuse_unstorable_text(self, data, **kwargs):
        """Text the database cannot store is invalid input (422), not a server error."""
        if isinstance(data, Mapping):
            bad = [key for key, value in data.items() if not _storable(value)]
            if bad:
                message = ["contains characters that cannot be stored"]
                raise ValidationError(dict.fromkeys(bad, message))
        return data


class ListArgsSchema(InputSchema):
    limit = fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=200), metadata={"default": 50}
    )
    cursor = fields.String(validate=validate.Length(max=200))


class PageSchema(Schema):
    next_cursor = fields.String(allow_none=True, required=True)
