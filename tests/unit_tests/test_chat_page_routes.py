"""The chat page's routes serve its own files, and those files load nothing from outside."""

from __future__ import annotations

import hashlib
import posixpath
import re

from starlette.applications import Starlette
from starlette.testclient import TestClient

from agent.server.web.routes import STATIC_DIR, chat_routes, favicon_route

client = TestClient(Starlette(routes=[*chat_routes("/chat"), favicon_route()]))


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


def test_the_page_links_its_icon_and_favicon_ico_is_that_icon() -> None:
    page = client.get("/chat/").text
    linked = re.search(r'<link rel="icon" href="(static/[^"]+)" type="([^"]+)">', page)
    assert linked, "without a linked icon the browser asks for /favicon.ico"
    icon = client.get(f"/chat/{linked[1]}")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == linked[2] == "image/svg+xml"
    assert icon.text.startswith("<svg ") and icon.text.rstrip().endswith("</svg>")
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200
    assert favicon.headers["content-type"] == "image/svg+xml"
    assert favicon.content == icon.content


def test_nothing_is_loaded_from_another_origin() -> None:
    for path in STATIC_DIR.iterdir():
        if path.is_dir():
            continue  # vendor/: checked byte for byte below
        text = path.read_text()
        urls = re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", text)
        assert urls == [] or all("www.w3.org/2000/svg" in url for url in urls), (path.name, urls)
        assert "@import" not in text and "@font-face" not in text, path.name


def test_vendored_libraries_are_the_recorded_npm_files_with_their_licences() -> None:
    vendor = STATIC_DIR / "vendor"
    rows = re.findall(
        r"^\| (\S+) \| (\S+) \| ([\d.]+) \| .+ \| .+\((\S+)\).* \| ([0-9a-f]{64}) \|$",
        (vendor / "README.md").read_text(),
        flags=re.MULTILINE,
    )
    assert {row[0] for row in rows} == {
        p.name for p in vendor.iterdir() if not p.name.endswith(("LICENSE", "LICENSE-MPL", ".md"))
    }
    for name, _package, _version, licence, sha256 in rows:
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == sha256, name
        assert (vendor / licence).stat().st_size > 500, licence
    page = client.get("/chat/").text
    for name in ("marked.umd.js", "purify.min.js", "highlight.min.js"):
        assert f'src="static/vendor/{name}"' in page
        assert client.get(f"/chat/static/vendor/{name}").status_code == 200


IMPORT_FROM = re.compile(
    r"""^\s*(?:import|export)\b[^"';]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']""",
    flags=re.MULTILINE,
)


def _imports(module: str) -> list[str]:
    """The specifiers a module imports (or re-exports) from, statically."""
    return [a or b for a, b in IMPORT_FROM.findall(module)]


def test_every_module_the_page_loads_is_served_as_javascript_and_its_imports_resolve() -> None:
    # A module script is refused unless served with a JavaScript type, and a missing file
    # (say, left out of the wheel's package-data) breaks the whole page: catch both here.
    page = client.get("/chat/").text
    entries = re.findall(r'<script type="module" src="(static/[^"]+)"', page)
    assert "static/app.js" in entries and "static/memory.js" in entries
    pending = [f"/chat/{entry}" for entry in entries]
    served: set[str] = set()
    while pending:
        url = pending.pop()
        if url in served:
            continue
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith(
            ("text/javascript", "application/javascript")
        ), (url, response.headers["content-type"])
        served.add(url)
        for specifier in _imports(response.text):
            assert specifier.startswith(("./", "../")) and specifier.endswith(".js"), (
                f"{url} imports {specifier!r}: only relative .js paths load without a build step"
            )
            base = url.rsplit("/", 1)[0]
            pending.append(posixpath.normpath(f"{base}/{specifier}"))
    assert "/chat/static/conversation.js" in served and "/chat/static/api.js" in served
    on_disk = {
        f"/chat/static/{p.relative_to(STATIC_DIR).as_posix()}"
        for p in STATIC_DIR.rglob("*.js")
        if "vendor" not in p.parts
    }
    assert on_disk == served, f"modules no page imports: {sorted(on_disk - served)}"


def test_the_import_parser_sees_every_form_the_modules_use() -> None:
    module = (
        'import { a, b } from "./one.js";\n'
        "import * as two from './two.js';\n"
        'import {\n  c,\n  d,\n} from "./three.js";\n'
        'import "./four.js";\n'
        'export { e } from "./five.js";\n'
        'const text = "import nothing from here";\n'
    )
    assert _imports(module) == ["./one.js", "./two.js", "./three.js", "./four.js", "./five.js"]
