"""Portal sessions: the platform's backend asks for a one-use link into /portal/.

Like Stripe's customer portal sessions: the link signs one of the organisation's users
in to that organisation's portal, with the role asked for, once, within 10 minutes.
"""

import uuid

from flask.views import MethodView

from ledger.api.auth import org_access
from ledger.api.blueprint import Blueprint
from ledger.api.responses import document_errors, require_authentication
from ledger.api.schemas.portal_sessions import PortalSessionCreateSchema, PortalSessionSchema
from ledger.pages.links import sign_in_url
from ledger.services import page_sessions

blp = Blueprint(
    "portal_sessions",
    __name__,
    url_prefix="/v1/orgs/<uuid:org_id>/portal-sessions",
    description="Portal sessions",
)
blp.before_request(require_authentication)


@blp.route("")
class PortalSessions(MethodView):
    @blp.arguments(PortalSessionCreateSchema)
    @blp.response(201, PortalSessionSchema)
    @document_errors(blp, 401, 403, 404, 422)
    def post(self, body, org_id: uuid.UUID):
        """Open the portal for the organisation: a one-use sign-in link, valid 10 minutes"""
        principal = org_access(org_id, "open_portal")
        link = page_sessions.create_sign_in_link(
            kind="portal",
            subject=principal.subject,
            org_id=org_id,
            org_role=body["role"],
            return_url=body.get("return_url"),
        )
        return {"url": sign_in_url("portal", link.token), "expires_at": link.expires_at}
