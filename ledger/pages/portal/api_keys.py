"""API keys: create (the key shown once), list, revoke; owners and admins only."""

import uuid

from flask import render_template, request

from ledger.api.auth import org_access
from ledger.api.schemas.api_keys import ApiKeyCreateSchema
from ledger.domain.api_keys import API_KEY_SCOPES
from ledger.pages.forms import load_form
from ledger.pages.portal.blueprint import bp, see_other
from ledger.services import organizations


@bp.get("/<uuid:org_id>/api-keys")
def api_keys(org_id: uuid.UUID):
    org_access(org_id, "manage_keys")
    return render_template(
        "portal/api_keys.html",
        keys=organizations.list_api_keys(org_id=org_id),
        scopes=API_KEY_SCOPES,
    )


@bp.post("/<uuid:org_id>/api-keys")
def create_api_key(org_id: uuid.UUID):
    principal = org_access(org_id, "manage_keys")
    body = load_form(
        ApiKeyCreateSchema(),
        {"name": request.form.get("name", "").strip(), "scopes": request.form.getlist("scope")},
    )
    created = organizations.create_api_key(org_id=org_id, created_by=principal.subject, **body)
    # Rendered, not redirected: the key is shown this once and stored nowhere in clear.
    return render_template("portal/api_key_created.html", created=created)


@bp.post("/<uuid:org_id>/api-keys/<uuid:key_id>/revoke")
def revoke_api_key(org_id: uuid.UUID, key_id: uuid.UUID):
    org_access(org_id, "manage_keys")
    organizations.revoke_api_key(org_id=org_id, key_id=key_id)
    return see_other("portal.api_keys", org_id=org_id)
