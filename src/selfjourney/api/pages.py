"""The pages a person opens in a browser: the playground at ``/`` and the API docs at ``/docs``
(Swagger UI) and ``/redoc`` (ReDoc).

Everything is served by this process, so the pages work with no internet: the playground is
plain HTML, CSS and JavaScript shipped in the package (``api/playground/``, no build step), and
the Swagger UI and ReDoc bundles come from the ``fastapi-offline`` package's files instead of
FastAPI's default CDN links.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

#: The pages load nothing from elsewhere: the policy lets the browser refuse it (ReDoc would
#: otherwise fetch its own logo from a CDN). The playground's pictures may be on another host
#: (``public_url``), so any image is allowed there; it runs no inline code.
PLAYGROUND_POLICY = (
    "default-src 'self'; img-src * data: blob:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
#: FastAPI's Swagger UI page starts with an inline script; ReDoc styles inline and uses a worker.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'"
)

PLAYGROUND = Path(__file__).parent / "playground"
#: Where the playground's files and the docs' bundles are served.
PLAYGROUND_URL = "/playground"
DOCS_ASSETS_URL = "/docs-assets"


def add_pages(app: FastAPI) -> None:
    """Serve the playground and the offline API docs (``create_app`` turns FastAPI's own off)."""
    app.mount(PLAYGROUND_URL, StaticFiles(directory=PLAYGROUND), name="playground")
    app.mount(
        DOCS_ASSETS_URL, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-assets"
    )

    @app.get("/", include_in_schema=False)
    async def playground() -> FileResponse:
        headers = {"Cache-Control": "no-cache", "Content-Security-Policy": PLAYGROUND_POLICY}
        return FileResponse(PLAYGROUND / "index.html", headers=headers)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{PLAYGROUND_URL}/favicon.svg",
        )
        page.headers["Content-Security-Policy"] = DOCS_POLICY
        return page

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{PLAYGROUND_URL}/favicon.svg",
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = DOCS_POLICY
        return page
