"""The chat page's "What I remember about you" panel, in headless Chromium against a real server.

The server runs the scripted model with memory on; facts are taught through
the API (two scripted replies a turn: the answer, then the extraction), and
the panel must list them, forget one, and forget everything, as the store
then says too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from langgraph_sdk import get_sync_client
from playwright.sync_api import Browser, Page, expect, sync_playwright

from agent.testing import scripted_model
from agent.testing.dev_server import DevServer, dev_server_with_scripted_model
from agent.testing.turns import GRAPH_ID, user

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}: run `make browser`"
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    with dev_server_with_scripted_model(
        tmp_path_factory.mktemp("memory-page"), CHATBOT_REMEMBER="true"
    ) as (running, _model):
        yield running


@pytest.fixture
def page(server: DevServer) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            tab = browser.new_page(viewport={"width": 1200, "height": 760})
            tab.set_default_timeout(30_000)
            yield tab
        finally:
            browser.close()


def teach(server: DevServer, text: str, noted: str) -> None:
    client = get_sync_client(url=server.url, api_key=None)
    scripted_model.settings.replies += ["Nice to know!", noted]
    thread = client.threads.create()["thread_id"]
    client.runs.wait(thread, GRAPH_ID, input=user(text))


def remembered(server: DevServer) -> dict[str, str]:
    client = get_sync_client(url=server.url, api_key=None)
    items = client.store.search_items(["local", "memories"], limit=100)["items"]
    return {item["key"]: item["value"]["text"] for item in items}


def test_panel_lists_facts_and_forgets_one_then_everything(server: DevServer, page: Page) -> None:
    teach(server, "Hi! I'm Zanele and I live in Windhoek.", "name: Zanele\nlocation: Windhoek")
    teach(server, "I love rooibos tea.", "likes: rooibos tea")
    assert remembered(server) == {
        "name": "Zanele",
        "location": "Windhoek",
        "likes": "rooibos tea",
    }

    page.goto(f"{server.url}/chat/")
    panel = page.locator("#memory-panel")
    panel.get_by_text("What I remember about you").click()
    facts = panel.locator(".memory-fact")
    expect(facts).to_have_count(3)
    expect(facts.nth(0)).to_contain_text("Your name is Zanele.")
    expect(facts.nth(1)).to_contain_text("You live in Windhoek.")
    expect(facts.nth(2)).to_contain_text("You like rooibos tea.")

    panel.get_by_role("button", name="Forget location").click()
    expect(facts).to_have_count(2)
    expect(panel).not_to_contain_text("Windhoek")
    assert remembered(server) == {"name": "Zanele", "likes": "rooibos tea"}

    # Learnt elsewhere (another window, the CLI): Refresh shows it.
    teach(server, "I plan to visit Etosha.", "plans: visit Etosha")
    panel.get_by_role("button", name="Refresh").click()
    expect(facts).to_have_count(3)
    expect(panel).to_contain_text("Your plans: visit Etosha.")

    page.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Forget everything").click()
    expect(facts).to_have_count(0)
    expect(panel.get_by_text("Nothing yet.")).to_be_visible()
    expect(panel.get_by_role("button", name="Forget everything")).to_be_hidden()
    assert remembered(server) == {}
