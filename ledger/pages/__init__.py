"""Pages: the operators' console (`/console/`), the advertiser portal (`/portal/`), `/docs`.

Design overview
---------------
Server-rendered Jinja templates, no build step, nothing loaded from outside the service.

- `guard.page_blueprint(name, kind)` makes a blueprint whose every request first loads
  the server-side session from its cookie (`ledger_console` on /console/, `ledger_portal`
  on /portal/), puts the caller in `g.principal` exactly as the API's bearer token would,
  and refuses any POST/PUT/PATCH/DELETE whose CSRF token does not match the session's.
  Views then call the same services with the same checks as the API (`org_access`,
  `require_operator`), so a page never has more rights than the API. Errors render as
  HTML pages with the error's status.
- `i18n`: English and Korean, chosen by `?lang=` (remembered in a cookie) or
  Accept-Language; the Korean catalogue is `translations/ko*.json`, keyed by the English text.
- `formatting`: Jinja filters `money` (₩12,000; $19.99) and `when`.
- Sign-in: one-use links (`console-link`, `POST .../portal-sessions`) and OpenID Connect
  for operators (`oidc`).
"""

from flask import Blueprint, Flask
from swagger_ui_bundle import swagger_ui_path

from ledger.pages import console, formatting, guard, i18n, oidc, portal

# Templates and the pages' own static files (/pages/static/...).
assets = Blueprint(
    "pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/pages/static",
)

# Swagger UI for /docs, from the swagger-ui-bundle package (see OPENAPI_SWAGGER_UI_URL).
swagger_ui = Blueprint(
    "swagger_ui", __name__, static_folder=str(swagger_ui_path), static_url_path="/docs/static"
)


def register_pages(app: Flask) -> None:
    i18n.init_app(app)
    formatting.init_app(app)
    oidc.init_app(app)
    app.jinja_env.globals["csrf_field"] = guard.csrf_field
    for blueprint in (assets, swagger_ui, console.bp, portal.bp):
        app.register_blueprint(blueprint)
