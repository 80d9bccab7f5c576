"""The site as a whole: its language switch, its web app manifest and its error pages.

The error pages are the HTML face of the API's problem+json: `http.problems` asks for one
(through `app.state.problem_page`) when a browser, not a program, asked for a page.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from townsquare import i18n
from townsquare.i18n import gettext as _
from townsquare.web.kit import local_path, page_router, render

router = page_router()
LANGUAGE_COOKIE_AGE_S = 365 * 24 * 3600
THEME = "#0f1b2d"
BACKGROUND = "#f3f5f8"


@router.get("/language")
def switch_language(request: Request, lang: str = "", next: str = "/") -> Response:
    """Speak `lang` from now on (a cookie; no account needed), back on the page it came from."""
    response = RedirectResponse(local_path(next, "/"), status_code=303)
    if lang in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE,
            lang,
            max_age=LANGUAGE_COOKIE_AGE_S,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response


@router.get("/manifest.webmanifest")
def manifest(request: Request) -> Response:
    """What a phone needs to install the site as an app: names, icons, colours."""
    static = "/static/icons/"
    body = {
        "name": "Townsquare",
        "short_name": "Townsquare",
        "description": _("Public safety calls near a place. No account, no tracking."),
        "lang": i18n.current(),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": BACKGROUND,
        "theme_color": THEME,
        "icons": [
            {"src": f"{static}icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": f"{static}icon-512.png", "sizes": "512x512", "type": "image/png"},
            {
                "src": f"{static}icon-maskable-512.png",
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": "/static/favicon.svg", "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JSONResponse(
        body,
        media_type="application/manifest+json",
        headers={"Cache-Control": "public, max-age=3600", "Vary": "Accept-Language"},
    )


def wants_page(request: Request) -> bool:
    """A browser asking for a page (HTML accepted, outside the API), not a program."""
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def problem_page(request: Request, status: int) -> Response | None:
    """The site's page for an error of `status`, when a browser asked for a page; else None."""
    if not wants_page(request):
        return None
    template = "errors/not_found.html" if status in (404, 410) else "errors/error.html"
    response = render(request, template, status, actor=None, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response
