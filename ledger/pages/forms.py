"""Forms on the pages are checked by the API's own schemas, so a page accepts exactly
what the API accepts; a form that fails is a 422 page saying which field and why."""

from collections.abc import Mapping

from marshmallow import Schema, ValidationError

from ledger.errors import ValidationFailed


def load_form(schema: Schema, data: Mapping[str, object]) -> dict:
    """The form's values as the API's schema loads them; ValidationFailed otherwise."""
    try:
        return schema.load(data)
    except ValidationError as e:
        field, problems = next(iter(e.normalized_messages().items()))
        problem = problems[0] if isinstance(problems, list) else problems
        raise ValidationFailed(f"{field}: {problem}") from e
