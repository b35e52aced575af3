"""What users install is what is tested: the built wheel, installed outside the checkout.

``make test-wheel`` builds the wheel, installs it (not editable) into a
virtual environment of its own and runs this file from there. The server
then runs from a temporary directory holding a copy of ``langgraph.json``
whose paths point into the installed package, so nothing of the checkout's
``src/`` is on its path. Run from the checkout's own environment (``make
test``), these tests skip: the package imported there is the checkout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

import agent
from agent.models.local.launcher import free_port
from agent.testing import scripted_model
from agent.testing.dev_server import DevServer, server_environment
from tests.integration_tests.browser import open_page
from tests.integration_tests.test_chat_page import REPLY_TIMEOUT_MS, _send, _wait_reply

CHECKOUT = Path(__file__).resolve().parents[2]
INSTALLED = Path(agent.__file__).resolve().parent
CONFIG_SECTIONS = (("http", "app"), ("auth", "path"), ("checkpointer", "path"), ("store", "path"))
MARKDOWN_REPLY = "Here is **bold** text and code:\n\n```python\nprint('hi')\n```"

pytestmark = pytest.mark.skipif(
    CHECKOUT in INSTALLED.parents,
    reason=f"agent is imported from the checkout ({INSTALLED}): `make test-wheel` runs "
    "these tests against the built wheel",
)


def _installed(path_spec: str) -> str:
    """Map ``./src/agent/<module>.py:<attribute>`` to the installed package's file."""
    file, _, attribute = path_spec.partition(":")
    relative = Path(file).relative_to("src/agent")
    return f"{INSTALLED / relative}:{attribute}"


def write_installed_config(workdir: Path) -> Path:
    """Write the checkout's ``langgraph.json`` into ``workdir``, pointing into the install."""
    config = json.loads((CHECKOUT / "langgraph.json").read_text())
    config["dependencies"] = ["."]
    config["graphs"] = {name: _installed(spec) for name, spec in config["graphs"].items()}
    for section, key in CONFIG_SECTIONS:
        if key in config.get(section, {}):
            config[section][key] = _installed(config[section][key])
    config.pop("env", None)
    path = workdir / "langgraph.json"
    path.write_text(json.dumps(config, indent=2))
    return path


@pytest.fixture(scope="module")
def installed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """``langgraph dev`` serving the installed package, answered by the scripted model."""
    workdir = tmp_path_factory.mktemp("installed")
    write_installed_config(workdir)
    with scripted_model.running() as model_url:
        server = DevServer(
            workdir=workdir,
            port=free_port(),
            env=server_environment(OPENAI_BASE_URL=model_url, OPENAI_API_KEY="scripted"),
        )
        server.start()
        try:
            yield server
        finally:
            server.stop()


def test_langgraph_validate_accepts_the_installed_package(tmp_path: Path) -> None:
    write_installed_config(tmp_path)
    langgraph = Path(sys.executable).with_name("langgraph")
    result = subprocess.run(
        [str(langgraph), "validate"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_installed_server_loads_the_installed_package(installed_server: DevServer) -> None:
    assert str(CHECKOUT / "src") not in installed_server.log()
    assert httpx.get(f"{installed_server.url}/chatbot/model", timeout=10).status_code == 200


def test_installed_chat_page_renders_a_reply_with_its_vendored_libraries(
    browser: Browser, installed_server: DevServer
) -> None:
    failed: list[str] = []
    viewport = {"width": 1200, "height": 760}
    with open_page(
        browser, installed_server.url, timeout_ms=REPLY_TIMEOUT_MS, viewport=viewport
    ) as page:
        page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
        page.goto(f"{installed_server.url}/chat/")
        expect(page.get_by_role("heading", name="Chatbot")).to_be_visible()
        loaded = page.evaluate(
            "() => [typeof window.marked, typeof window.DOMPurify, typeof window.hljs]"
        )
        assert loaded == ["object", "function", "object"], loaded
        scripted_model.settings.replies = [MARKDOWN_REPLY]
        _send(page, "Show me some code")
        _wait_reply(page, 2)
        reply = page.locator("#messages .message.ai .body").last
        expect(reply.locator("strong")).to_have_text("bold")
        expect(reply.locator("pre code.hljs")).to_contain_text("print('hi')")
    assert not failed, f"requests that failed: {failed}"
