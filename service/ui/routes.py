"""Serves the pages, their assets and the offline API docs.

These are plain Starlette routes, not API routes: they carry no data (the pages fetch it
from /v1 with the user's key), so the app-wide key check does not apply and they stay out
of the OpenAPI document. Every page sets its own Content-Security-Policy allowing only the
service's own assets; a CSP a route already set is left alone by the API's middleware.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

__all__ = ["PAGE_CSP", "REDOC_CSP", "mount_ui"]

STATIC = Path(__file__).parent / "static"
ASSETS = "/ui/assets"
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
            "base-uri 'none'; form-action 'self'")
# ReDoc styles itself with styled-components, which writes <style> elements at run time:
# styles (never scripts) may be inline there, and its search worker starts from a blob.
REDOC_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
             "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; "
             "form-action 'self'")
PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a page URL never leaves the service
    "Cache-Control": "no-cache",
}


def _page(html: str, csp: str = PAGE_CSP) -> Response:
    return Response(html, media_type="text/html; charset=utf-8",
                    headers={**PAGE_HEADERS, "Content-Security-Policy": csp})


def _app_shell(request: Request) -> Response:
    """Every /ui/ path gets the same shell; its script picks the page from the path."""
    response = FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")
    response.headers.update({**PAGE_HEADERS, "Content-Security-Policy": PAGE_CSP})
    return response


def _home(request: Request) -> Response:
    return RedirectResponse("/ui/", status_code=307)


def _docs(request: Request) -> Response:
    return _page(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Supply-chain cascade service - API docs</title>
<link rel="icon" type="image/png" href="{ASSETS}/vendor/swagger-ui-5.35.0/favicon-32x32.png">
<link rel="stylesheet" href="{ASSETS}/vendor/swagger-ui-5.35.0/swagger-ui.css">
</head><body><main id="swagger-ui" data-openapi-url="/openapi.json"></main>
<script src="{ASSETS}/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js"></script>
<script src="{ASSETS}/docs-init.js"></script>
</body></html>""")


def _redoc(request: Request) -> Response:
    return _page(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Supply-chain cascade service - API reference</title>
<link rel="icon" type="image/png" href="{ASSETS}/vendor/swagger-ui-5.35.0/favicon-32x32.png">
<link rel="stylesheet" href="{ASSETS}/redoc.css">
</head><body><main id="redoc" data-openapi-url="/openapi.json"></main>
<script src="{ASSETS}/vendor/redoc-2.5.4/redoc.standalone.js"></script>
<script src="{ASSETS}/redoc-init.js"></script>
</body></html>""", csp=REDOC_CSP)


def mount_ui(app: FastAPI) -> None:
    """`/` -> `/ui/`, the pages, their assets, `/docs` and `/redoc` (create the app with
    docs_url=None, redoc_url=None so FastAPI's CDN-based ones are not served)."""
    app.add_route("/", _home, include_in_schema=False)
    app.add_route("/ui", _home, include_in_schema=False)
    app.add_route("/docs", _docs, include_in_schema=False)
    app.add_route("/redoc", _redoc, include_in_schema=False)
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="ui-assets")
    app.add_route("/ui/{page:path}", _app_shell, include_in_schema=False)
