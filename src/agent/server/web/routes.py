"""Starlette routes that serve the browser chat page from this package's ``static/``.

Everything the page needs (HTML, script, styles) is served from here, so it works
with no internet. Starlette's ``StaticFiles`` reads files in a worker thread, so
the dev server's BlockBuster does not object.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""The page's files: ``index.html``, its ES modules (``app.js`` first), styles, ``vendor/``."""

FAVICON = STATIC_DIR / "favicon.svg"
"""The page's icon, which ``index.html`` links; also served at ``/favicon.ico``."""

_NO_CACHE = {"Cache-Control": "no-cache"}


async def _index(_: Request) -> Response:
    return FileResponse(STATIC_DIR / "index.html", headers=_NO_CACHE)


async def _favicon(_: Request) -> Response:
    return FileResponse(FAVICON, media_type="image/svg+xml")


def favicon_route(path: str = "/favicon.ico") -> Route:
    """Return the route of the icon browsers ask for on their own at ``/favicon.ico``."""
    return Route(path, _favicon, methods=["GET"])


def chat_routes(prefix: str = "/chat") -> list[BaseRoute]:
    """Return the routes of the chat page, mounted under ``prefix``."""

    async def to_index(_: Request) -> Response:
        return RedirectResponse(f"{prefix}/", status_code=307)

    return [
        Route(prefix, to_index, methods=["GET"]),
        Route(f"{prefix}/", _index, methods=["GET"]),
        Mount(f"{prefix}/static", app=StaticFiles(directory=STATIC_DIR), name="chat-static"),
    ]
