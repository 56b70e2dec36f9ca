"""The caller's `metadata`: a small flat object the database and every reader can hold.

A flat JSON object of at most 50 keys (each at most 40 characters); values are strings
of at most 500 characters, finite numbers or booleans. Anything else is
`422 invalid_metadata`, for a single call and for a batch item alike.
"""

import math
from collections.abc import Mapping

from marshmallow import ValidationError, fields

from ledger.errors import InvalidMetadata, ValidationFailed

MAX_KEYS = 50
MAX_KEY_LENGTH = 40
MAX_TEXT_LENGTH = 500


def metadata_problem(value: object) -> str | None:
    """What is wrong with this metadata, or None when it may be stored."""
    if not isinstance(value, Mapping):
        return "metadata is a JSON object"
    if len(value) > MAX_KEYS:
        return f"metadata has at most {MAX_KEYS} keys"
    for key, item in value.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH:
            return f"metadata keys are 1 to {MAX_KEY_LENGTH} characters"
        if isinstance(item, str):
            if len(item) > MAX_TEXT_LENGTH:
                return f"metadata strings are at most {MAX_TEXT_LENGTH} characters"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "metadata numbers are finite"
        elif not isinstance(item, int | bool):
            return "metadata values are strings, finite numbers or booleans"
    return None


class Metadata(fields.Field):
    """The `metadata` field of an input schema."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_none", True)
        kwargs.setdefault("metadata", {}).update(
            {
                "type": "object",
                "description": (
                    f"flat: at most {MAX_KEYS} keys of at most {MAX_KEY_LENGTH} characters; "
                    f"values are strings (at most {MAX_TEXT_LENGTH}), finite numbers or booleans"
                ),
            }
        )
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        problem = metadata_problem(value)
        if problem:
            raise ValidationError(problem)
        return dict(value)


def validation_failure(messages: dict) -> ValidationFailed:
    """The error for these field messages: invalid_metadata when metadata is among them."""
    if "metadata" in messages:
        return InvalidMetadata(fields=messages)
    return ValidationFailed(fields=messages)
