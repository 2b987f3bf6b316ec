"""The API's documentation pages: /docs (Swagger UI) and /redoc, with their scripts and
styles served by this server (the `fastapi-offline` package ships Swagger UI's and Redoc's
built files) and a Content-Security-Policy that lets no other host's code run here.

FastAPI's own pages load them from a CDN, and /docs shares its origin with the dashboard:
whatever a CDN served would run beside the dashboard's session.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata

from fastapi import FastAPI
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from sendmako import __version__

ASSETS = "/docs/assets"

# Only this server's scripts, styles, fonts and images; requests to this server only.
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
SWAGGER_CSP = _POLICY
# Redoc styles its page from its script (<style> elements) and parses the schema in a
# worker it makes from a blob: URL. Its sidebar also shows its maker's logo, from their
# CDN: the policy blocks that image (the link stays).
REDOC_CSP = _POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'") + (
    "; worker-src blob:"
)
_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin"}

_SWAGGER = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} - API docs</title>
  <link rel="icon" href="/dashboard/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{assets}/swagger-ui.css?v={version}">
</head>
<body>
  <div id="swagger-ui" data-spec="{spec}"></div>
  <script src="{assets}/swagger-ui-bundle.js?v={version}"></script>
  <script src="{assets}/swagger-init.js?v={version}"></script>
</body>
</html>
"""

_REDOC = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} - API reference</title>
  <link rel="icon" href="/dashboard/static/favicon.svg" type="image/svg+xml">
</head>
<body>
  <redoc spec-url="{spec}"></redoc>
  <script src="{assets}/redoc.standalone.js?v={version}"></script>
</body>
</html>
"""


def mount(app: FastAPI) -> None:
    """Add /docs, /redoc and their assets to `app` (made with `docs_url=None,
    redoc_url=None`, which leaves out FastAPI's own pages)."""
    page = {"title": app.title, "spec": app.openapi_url, "assets": ASSETS, "version": _version()}
    swagger = _SWAGGER.format(**page)
    redoc = _REDOC.format(**page)

    async def swagger_page() -> HTMLResponse:
        return HTMLResponse(swagger, headers={**_HEADERS, "content-security-policy": SWAGGER_CSP})

    async def redoc_page() -> HTMLResponse:
        return HTMLResponse(redoc, headers={**_HEADERS, "content-security-policy": REDOC_CSP})

    app.add_api_route("/docs", swagger_page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/redoc", redoc_page, methods=["GET"], include_in_schema=False)
    app.mount(
        ASSETS,
        StaticFiles(packages=[("sendmako.api", "docs_static"), ("fastapi_offline", "static")]),
        name="docs-assets",
    )


@cache
def _version() -> str:
    """Changes with either package, so browsers never keep an old script."""
    return f"{__version__}-{metadata.version('fastapi-offline')}"
