"""The language of each request to a Flask app (Flask-Babel's locale selector), and the
language switch of the web pages.

Order: `?lang=cy` (or `en`) on any page, then the choice remembered in the session and in the
`bridges_lang` cookie, then the browser's Accept-Language; English by default. An API (no
pages) follows `?lang` and Accept-Language only. The chosen language is also set as
shared.i18n's language of the moment, so problem documents and any Python code in the request
speak it too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, request, session
from flask_babel import Babel, get_locale

from .i18n import (
    DEFAULT_LANGUAGE,
    DOMAIN,
    LANGUAGE_NAMES,
    LANGUAGES,
    TRANSLATIONS_DIR,
    language,
    negotiate,
    normalise,
    reset_language,
    set_language,
)

COOKIE = "bridges_lang"
SESSION_KEY = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def install_language(app: Flask, *, pages: bool) -> None:
    """Choose each request's language before any other hook runs (a refused request's problem
    document is in it too)."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    Babel(
        app,
        locale_selector=lambda: _choose(pages),
        default_domain=DOMAIN,
        default_translation_directories=str(TRANSLATIONS_DIR),
    )

    def _set_language() -> None:
        g.bridges_language_token = set_language(str(get_locale() or DEFAULT_LANGUAGE))

    # First of the app's before_request hooks (the input guard may refuse in the next one).
    app.before_request_funcs.setdefault(None, []).insert(0, _set_language)

    @app.teardown_request
    def _reset_language(_error: BaseException | None) -> None:
        token = g.pop("bridges_language_token", None)
        if token is not None:
            reset_language(token)

    if not pages:
        return

    @app.after_request
    def _remember(response: Response) -> Response:
        asked = normalise(request.args.get("lang"))
        if asked is not None:
            response.set_cookie(
                COOKIE,
                asked,
                max_age=COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            )
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        return response

    app.add_template_global(language_links, "language_links")
    app.add_template_global(language, "current_language")


def _choose(pages: bool) -> str:
    asked = normalise(request.args.get("lang"))
    if pages:
        if asked is not None:
            if session.get(SESSION_KEY) != asked:
                session[SESSION_KEY] = asked
            return asked
        remembered = normalise(session.get(SESSION_KEY)) or normalise(request.cookies.get(COOKIE))
        if remembered is not None:
            return remembered
    elif asked is not None:
        return asked
    return negotiate(request.headers.get("Accept-Language"))


def language_links() -> list[dict[str, Any]]:
    """The switch: each language by its own name, a link to this page in it."""
    current = str(get_locale() or DEFAULT_LANGUAGE)
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    links = []
    for code in LANGUAGES:
        query = urlencode([*args, ("lang", code)])
        links.append(
            {
                "code": code,
                "name": LANGUAGE_NAMES[code],
                "href": f"{request.path}?{query}",
                "current": code == current,
            }
        )
    return links
