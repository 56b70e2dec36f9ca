"""Sign-in links and sessions: one use, 10 minutes, fixed session lifetimes, sign-out."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ledger import clock
from ledger.extensions import db
from ledger.models import PageSession
from ledger.services import page_sessions
from ledger.services.page_sessions import SignInLinkInvalid


def _link(kind="operator", **extra):
    return page_sessions.create_sign_in_link(kind=kind, subject="someone", **extra)


def test_a_link_older_than_ten_minutes_is_refused(app_ctx):
    link = _link()
    clock.pin(link.expires_at)
    with pytest.raises(SignInLinkInvalid):
        page_sessions.redeem_sign_in_link(kind="operator", token=link.token)


def test_a_console_link_does_not_open_the_portal(app_ctx, org):
    link = _link("portal", org_id=uuid.UUID(org.id), org_role="viewer")
    with pytest.raises(SignInLinkInvalid):
        page_sessions.redeem_sign_in_link(kind="operator", token=link.token)
    started = page_sessions.redeem_sign_in_link(kind="portal", token=link.token)
    assert (started.session.org_id, started.session.org_role) == (uuid.UUID(org.id), "viewer")


@pytest.mark.parametrize(("kind", "hours"), [("operator", 8), ("portal", 1)])
def test_sessions_end_on_time_and_on_sign_out(app_ctx, org, kind, hours):
    extra = {"org_id": uuid.UUID(org.id), "org_role": "admin"} if kind == "portal" else {}
    link = _link(kind, **extra)
    clock.pin(redeemed_at := clock.now())
    started = page_sessions.redeem_sign_in_link(kind=kind, token=link.token)
    assert started.session.expires_at == redeemed_at + timedelta(hours=hours)
    assert page_sessions.find_session(kind=kind, token=started.token) == started.session

    clock.pin(started.session.expires_at - timedelta(seconds=1))
    assert page_sessions.find_session(kind=kind, token=started.token) is not None
    clock.pin(started.session.expires_at)
    assert page_sessions.find_session(kind=kind, token=started.token) is None
    clock.pin(None)

    page_sessions.end_session(token=started.token)
    assert page_sessions.find_session(kind=kind, token=started.token) is None


def test_two_browsers_racing_for_one_link_get_one_session(app, run_threads):
    with app.app_context():
        link = _link()

    def redeem(_):
        with app.app_context():
            try:
                return page_sessions.redeem_sign_in_link(kind="operator", token=link.token)
            except SignInLinkInvalid:
                return None

    results = run_threads(8, redeem)
    assert len([r for r in results if r is not None]) == 1


def test_ended_sessions_and_unused_links_are_swept_by_the_next_sign_in(app_ctx):
    _link()  # never used
    started = page_sessions.redeem_sign_in_link(kind="operator", token=_link().token)
    clock.pin(started.session.expires_at + timedelta(seconds=1))
    _link()
    now = clock.now()
    ended = db.session.scalar(
        select(func.count()).where(
            (PageSession.expires_at < now)
            | (PageSession.session_hash.is_(None) & (PageSession.link_expires_at < now))
        )
    )
    assert ended == 0
