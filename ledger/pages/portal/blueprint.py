"""The portal's blueprint and what its views share: the signed-in organisation for the
layout, `allowed(action)` to hide what the user may not do, and reading forms."""

import uuid

from flask import g, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from ledger.api.auth import org_access
from ledger.errors import Forbidden, ValidationFailed
from ledger.money import MoneyError, parse_amount
from ledger.pages import guard
from ledger.services import organizations

bp = guard.page_blueprint("portal", "portal")


@bp.context_processor
def portal_globals() -> dict:
    session = g.get("page_session")
    if session is None:
        return {}
    return {
        "organization": organizations.get_organization(session.org_id),
        "allowed": lambda action: allowed(session.org_id, action),
    }


def allowed(org_id: uuid.UUID, action: str) -> bool:
    """Whether the signed-in user may do `action` (the API's rule), to hide what they may not."""
    try:
        org_access(org_id, action)
    except Forbidden:
        return False
    return True


def see_other(endpoint: str, **values) -> BaseResponse:
    """After a POST: the next page is a GET (reloading it posts nothing again)."""
    return redirect(url_for(endpoint, **values), code=303)


def amount_field(name: str, currency: str) -> int | None:
    """A form's amount as people write it ("50,000", "19.99"); None when left empty."""
    written = request.form.get(name, "").strip()
    if not written:
        return None
    try:
        return parse_amount(written, currency)
    except MoneyError as e:
        raise ValidationFailed(f"{name}: {e}") from e


def present(**fields: object) -> dict[str, object]:
    """The fields the user filled in (a schema's optional field is absent, not None)."""
    return {name: value for name, value in fields.items() if value is not None}


def new_order_id(prefix: str) -> str:
    """A fresh order_id for a form: submitting the same form twice replays, never repeats."""
    return f"{prefix}-{uuid.uuid4().hex}"
