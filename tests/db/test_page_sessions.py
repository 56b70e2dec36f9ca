"""Page sessions in the database: portal rows belong to an organisation, operators' to none."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from ledger.extensions import db

INSERT = text(
    "INSERT INTO page_sessions (id, kind, org_id, org_role, subject, session_hash, csrf_token)"
    " VALUES (gen_random_uuid(), :kind, :org_id, :org_role, 's', md5(random()::text) || "
    "md5(random()::text), 'c')"
)


@pytest.mark.parametrize(
    ("kind", "with_org", "org_role"),
    [
        ("portal", False, "admin"),  # a portal session of no organisation
        ("portal", True, None),  # without a role
        ("portal", True, "owner"),  # a role the portal does not grant
        ("operator", True, None),  # an operator's session tied to an organisation
        ("operator", False, "admin"),
        ("visitor", False, None),
    ],
)
def test_sessions_that_break_the_rules_are_refused(app_ctx, org, kind, with_org, org_role):
    params = {"kind": kind, "org_id": org.id if with_org else None, "org_role": org_role}
    with pytest.raises(IntegrityError):
        db.session.execute(INSERT, params)
    db.session.rollback()


@pytest.mark.parametrize(
    ("kind", "with_org", "org_role"), [("portal", True, "viewer"), ("operator", False, None)]
)
def test_well_formed_sessions_are_stored(app_ctx, org, kind, with_org, org_role):
    params = {"kind": kind, "org_id": org.id if with_org else None, "org_role": org_role}
    db.session.execute(INSERT, params)
    db.session.rollback()
