"""The browser UI: ``/`` serves index.html and ``/static/...`` the files of ``montesim/web``.

Plain files, no build step: the web folder ships inside the package (and so the wheel),
and is found next to this package rather than through the current directory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from montesim.api.problems import Problem

router = APIRouter(include_in_schema=False)

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}

# Swagger UI's files, from the swagger-ui-py package: /docs works with no internet.
SWAGGER_ROOT = Path(str(files("swagger_ui") / "static"))
SWAGGER_FILES = {"swagger-ui-bundle.js", "swagger-ui.css"}

# Everything the page loads comes from this server: no CDN, no inline script.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)

# Revalidate on every load (ETag makes that cheap) so an upgraded server's UI is used.
HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


def web_file(relative: str) -> Path:
    """The file at ``relative`` inside the web folder; 404 for anything outside it."""
    root = WEB_ROOT.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise Problem(404, "not_found", f"No UI file {relative!r}", location="path")
    return target


def serve(path: Path, extra: dict[str, str] | None = None) -> FileResponse:
    media = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    return FileResponse(path, media_type=media, headers={**HEADERS, **(extra or {})})


@router.get("/")
def index() -> FileResponse:
    return serve(web_file("index.html"), {"Content-Security-Policy": CSP})


@router.get("/static/{path:path}")
def static(path: str) -> FileResponse:
    return serve(web_file(path))


@router.get("/docs")
def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="montesim API",
        swagger_js_url="/docs-assets/swagger-ui-bundle.js",
        swagger_css_url="/docs-assets/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )


@router.get("/docs-assets/{name}")
def docs_asset(name: str) -> FileResponse:
    if name not in SWAGGER_FILES:
        raise Problem(404, "not_found", f"No API docs file {name!r}", location="path")
    return FileResponse(
        SWAGGER_ROOT / name,
        media_type=MEDIA_TYPES[Path(name).suffix],
        headers={"Cache-Control": "max-age=86400"},
    )
