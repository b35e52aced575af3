"""The chat page's routes serve its own files, and those files load nothing from outside."""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.testclient import TestClient

from agent.server.web.routes import STATIC_DIR, chat_routes

client = TestClient(Starlette(routes=chat_routes("/chat")))


def test_bare_path_redirects_to_the_page() -> None:
    response = client.get("/chat", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/chat/"


def test_page_and_its_assets_are_served() -> None:
    page = client.get("/chat/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for asset in re.findall(r'(?:src|href)="(static/[^"]+)"', page.text):
        response = client.get(f"/chat/{asset}")
        assert response.status_code == 200, asset
    assert client.get("/chat/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/chat/static/nope.js").status_code == 404


def test_nothing_is_loaded_from_another_origin() -> None:
    for path in STATIC_DIR.iterdir():
        text = path.read_text()
        urls = re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", text)
        assert urls == [] or all("www.w3.org/2000/svg" in url for url in urls), (path.name, urls)
        assert "@import" not in text and "@font-face" not in text, path.name
