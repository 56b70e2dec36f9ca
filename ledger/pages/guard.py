"""What every page request goes through: its session, its caller, its CSRF check, its errors.

`page_blueprint(name, kind)` returns a blueprint for one kind of session ("operator" for
/console/, "portal" for /portal/). Before each view it loads the session named by the
kind's cookie and sets `g.page_session` and `g.principal` (the same `Principal` the API
builds from a token, so `org_access` and `require_operator` decide as they do for the
API). A view without a session is refused, unless decorated with `@public` (sign-in
routes). Every POST/PUT/PATCH/DELETE must carry the session's CSRF token, as the form
field `csrf_token` or the header `X-CSRF-Token`, or it is refused with 403.
"""

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    after_this_request,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from ledger.api.auth import Principal
from ledger.errors import LedgerError
from ledger.pages import i18n
from ledger.services.page_sessions import (
    SESSION_LIFETIME,
    Session,
    StartedSession,
    end_session,
    find_session,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Pages load nothing from elsewhere and run no inline script; a page that must (PortOne's
# browser SDK) adds that one source here, not a wildcard.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
# What a page that loads PortOne's browser SDK also allows, for the SDK's origin only.
SDK_DIRECTIVES = ("script-src", "connect-src", "frame-src")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Sign-in links carry their secret in the path: never send it to another site.
    "Referrer-Policy": "same-origin",
}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class Cookie:
    name: str
    path: str


COOKIES = {
    "operator": Cookie("ledger_console", "/console/"),
    "portal": Cookie("ledger_portal", "/portal/"),
}


class CsrfFailed(LedgerError):
    """A page's state-changing request without its session's CSRF token."""

    code = "csrf_failed"
    http_status = 403
    message = "the form has expired or did not come from this site: reload the page and retry"


class SignInRequired(LedgerError):
    """A page that needs a session, asked for without one (or after it ended)."""

    code = "sign_in_required"
    http_status = 401
    message = "your session has ended: sign in again"


def public(view: Callable) -> Callable:
    """Mark a view that needs no session (sign-in routes)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def page_blueprint(name: str, kind: str) -> Blueprint:
    cookie = COOKIES[kind]
    bp = Blueprint(name, __name__, url_prefix=cookie.path.rstrip("/"))

    @bp.before_request
    def load_session() -> BaseResponse | None:
        token = request.cookies.get(cookie.name)
        session = find_session(kind=kind, token=token) if token else None
        g.page_session = session
        g.principal = _principal(session) if session else None
        if request.method not in SAFE_METHODS:
            _check_csrf(session)
        view = current_app.view_functions.get(request.endpoint or "")
        if session is None and not getattr(view, "is_public", False):
            if kind == "operator":
                return redirect(url_for("console.sign_in"))
            raise SignInRequired()
        return None

    bp.after_request(i18n.remember_choice)
    bp.after_request(_add_security_headers)
    bp.register_error_handler(LedgerError, render_error)
    bp.register_error_handler(HTTPException, render_error)
    return bp


def start(response: BaseResponse, started: StartedSession) -> BaseResponse:
    """Give the browser the new session's cookie."""
    kind = started.session.kind
    cookie = COOKIES[kind]
    response.set_cookie(
        cookie.name,
        started.token,
        max_age=int(SESSION_LIFETIME[kind].total_seconds()),
        path=cookie.path,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["PAGES_COOKIE_SECURE"],
    )
    return response


def end(kind: str) -> None:
    """Sign out: end this request's session for good; the response drops its cookie."""
    cookie = COOKIES[kind]
    end_session(token=request.cookies.get(cookie.name, ""))
    g.page_session = None

    @after_this_request
    def drop_cookie(response: Response) -> Response:
        response.delete_cookie(cookie.name, path=cookie.path)
        return response


def render_error(error: Exception) -> tuple[str, int]:
    if isinstance(error, LedgerError):
        status, message = error.http_status, error.message
    else:
        assert isinstance(error, HTTPException)  # noqa: S101 - registered only for these
        status, message = error.code or 500, error.description or ""
    return render_template("error.html", status=status, message=message), status


def allow_sdk_origin(url: str) -> None:
    """Let this response's page load a gateway's browser SDK from `url`'s origin, and
    let that SDK talk to and frame its own origin: that origin, not a wildcard."""
    parts = urlsplit(url)
    g.sdk_origin = f"{parts.scheme}://{parts.netloc}"


def content_security_policy() -> str:
    policy = dict(CONTENT_SECURITY_POLICY)
    origin = g.get("sdk_origin")
    if origin:
        policy.update(dict.fromkeys(SDK_DIRECTIVES, f"'self' {origin}"))
    return "; ".join(f"{k} {v}" for k, v in policy.items())


def _add_security_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Security-Policy"] = content_security_policy()
    return response


def _principal(session: Session) -> Principal:
    if session.kind == "operator":
        return Principal(subject=session.subject, roles=frozenset({"operator"}))
    return Principal(
        subject=f"portal:{session.subject}", org_id=session.org_id, org_role=session.org_role
    )


def _check_csrf(session: Session | None) -> None:
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if session is None or not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
        raise CsrfFailed()


def csrf_field() -> Markup:
    """The hidden form field every POST form of the pages carries (`{{ csrf_field() }}`)."""
    session = g.get("page_session")
    if session is None:
        return Markup("")
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        CSRF_FIELD, session.csrf_token
    )
