"""English and Korean for the pages.

The language is `?lang=en|ko` (remembered in the `lang` cookie), else the cookie, else
the best match of Accept-Language. Messages are keyed by their English text; the Korean
catalogue is every `translations/ko*.json` (plain JSON: nothing to compile; one file per
area, so the console's and the portal's messages are kept apart). A message missing
from the catalogue shows in English. Use `{{ _("Balance") }}` in templates and
`gettext(...)` in Python; `{{ _("Hello {name}", name=...) }}` fills placeholders.
"""

import json
from pathlib import Path

from flask import Flask, Response, g, request

LANGUAGES = ("en", "ko")
LANGUAGE_COOKIE = "lang"


def _catalogue(language: str) -> dict[str, str]:
    messages: dict[str, str] = {}
    for path in sorted((Path(__file__).parent / "translations").glob(f"{language}*.json")):
        messages.update(json.loads(path.read_text("utf-8")))
    return messages


CATALOGUES: dict[str, dict[str, str]] = {"ko": _catalogue("ko")}


def locale() -> str:
    """The language of this request's page."""
    if "locale" not in g:
        chosen = request.args.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
        if chosen not in LANGUAGES:
            chosen = request.accept_languages.best_match(LANGUAGES, default="en")
        g.locale = chosen
    return g.locale


def gettext(message: str, **values: object) -> str:
    text = CATALOGUES.get(locale(), {}).get(message, message)
    return text.format(**values) if values else text


def remember_choice(response: Response) -> Response:
    """after_request of the page blueprints: keep a `?lang=` choice for the next pages."""
    if request.args.get("lang") in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, request.args["lang"], max_age=365 * 86400, samesite="Lax"
        )
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(_=gettext, locale=locale, languages=LANGUAGES)
