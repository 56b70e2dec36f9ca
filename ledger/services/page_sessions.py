"""Sign-in links and sessions of the pages (the console and the portal).

A link is good once and for 10 minutes; redeeming it starts a session of fixed length
(operators 8 hours, portal users 1 hour: never extended, so a stolen cookie dies on
time, and a read costs no write). Secrets (the link's and the cookie's) are random,
shown once, and stored only as SHA-256 hashes. Each session has its own CSRF token.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import delete, select, update

from ledger import clock
from ledger.book import unit_of_work
from ledger.errors import LedgerError
from ledger.extensions import db
from ledger.models.page_sessions import PageSession

LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = {"operator": timedelta(hours=8), "portal": timedelta(hours=1)}


class SignInLinkInvalid(LedgerError):
    """A sign-in link that is unknown, already used, or older than 10 minutes."""

    code = "sign_in_link_invalid"
    http_status = 403
    message = "this sign-in link is not valid: it was used already or has expired"


@dataclass(frozen=True)
class SignInLink:
    token: str  # shown once, in the link
    expires_at: datetime


@dataclass(frozen=True)
class Session:
    id: uuid.UUID
    kind: str  # "operator" or "portal"
    subject: str
    org_id: uuid.UUID | None
    org_role: str | None
    return_url: str | None
    csrf_token: str
    expires_at: datetime | None  # None only for a link not yet redeemed


@dataclass(frozen=True)
class StartedSession:
    token: str  # the cookie's value, shown once
    session: Session


def create_sign_in_link(
    *,
    kind: str,
    subject: str,
    org_id: uuid.UUID | None = None,
    org_role: str | None = None,
    return_url: str | None = None,
) -> SignInLink:
    """A one-use link that signs `subject` in to the console or one organisation's portal."""
    token = secrets.token_urlsafe(32)
    expires_at = clock.now() + LINK_LIFETIME
    with unit_of_work():
        _forget_ended()
        db.session.add(
            PageSession(
                kind=kind,
                subject=subject,
                org_id=org_id,
                org_role=org_role,
                return_url=return_url,
                link_hash=_hash(token),
                link_expires_at=expires_at,
                csrf_token=secrets.token_urlsafe(32),
            )
        )
    return SignInLink(token=token, expires_at=expires_at)


def redeem_sign_in_link(*, kind: str, token: str) -> StartedSession:
    """Start the link's session; the link is spent even if two browsers race for it.

    Raises:
        SignInLinkInvalid: unknown, used, expired, or for the other kind of page.
    """
    session_token, now = secrets.token_urlsafe(32), clock.now()
    with unit_of_work():
        # One UPDATE that matches only an unused, live link: a second redeemer finds nothing.
        row = db.session.scalar(
            update(PageSession)
            .where(
                PageSession.link_hash == _hash(token),
                PageSession.kind == kind,
                PageSession.session_hash.is_(None),
                PageSession.link_expires_at > now,
            )
            .values(
                session_hash=_hash(session_token),
                started_at=now,
                expires_at=now + SESSION_LIFETIME[kind],
            )
            .returning(PageSession)
        )
        if row is None:
            raise SignInLinkInvalid()
        return StartedSession(token=session_token, session=_view(row))


def start_session(*, kind: str, subject: str) -> StartedSession:
    """A session at once, for someone the identity provider vouched for."""
    session_token, now = secrets.token_urlsafe(32), clock.now()
    row = PageSession(
        kind=kind,
        subject=subject,
        session_hash=_hash(session_token),
        csrf_token=secrets.token_urlsafe(32),
        started_at=now,
        expires_at=now + SESSION_LIFETIME[kind],
    )
    with unit_of_work():
        _forget_ended()
        db.session.add(row)
        db.session.flush()
        return StartedSession(token=session_token, session=_view(row))


def find_session(*, kind: str, token: str) -> Session | None:
    """The live session behind a cookie's value, or None."""
    with unit_of_work():
        row = db.session.scalar(
            select(PageSession).where(
                PageSession.session_hash == _hash(token),
                PageSession.kind == kind,
                PageSession.expires_at > clock.now(),
            )
        )
        return None if row is None else _view(row)


def end_session(*, token: str) -> None:
    """Sign out: the session is gone for good."""
    with unit_of_work():
        db.session.execute(delete(PageSession).where(PageSession.session_hash == _hash(token)))


def _forget_ended() -> None:
    """Drop sessions that ended and links never used: each new sign-in sweeps a little."""
    now = clock.now()
    db.session.execute(
        delete(PageSession).where(
            (PageSession.expires_at < now)
            | (PageSession.session_hash.is_(None) & (PageSession.link_expires_at < now))
        )
    )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _view(row: PageSession) -> Session:
    return Session(
        id=row.id,
        kind=row.kind,
        subject=row.subject,
        org_id=row.org_id,
        org_role=row.org_role,
        return_url=row.return_url,
        csrf_token=row.csrf_token,
        # Only a started session is viewed, and a started session has an expiry.
        expires_at=cast(datetime, row.expires_at),
    )
