"""The chat page's "What I remember about you" panel, in headless Chromium against a real server.

The server runs the scripted model with memory on; facts are taught through
the API (two scripted replies a turn: the answer, then the extraction), and
the panel must list them as the user wrote them (Hangul, accented Latin,
kana), correct one, forget one, and forget everything, as the store then
says too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from langgraph_sdk import get_sync_client
from playwright.sync_api import Browser, Dialog, Page, expect

from agent.testing import scripted_model
from agent.testing.dev_server import DevServer, dev_server_with_scripted_model
from agent.testing.turns import GRAPH_ID, user

from .browser import open_page

DEADLINE_S = 60.0

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    with dev_server_with_scripted_model(
        tmp_path_factory.mktemp("memory-page"), CHATBOT_REMEMBER="true"
    ) as (running, _model):
        yield running


@pytest.fixture
def page(browser: Browser, server: DevServer) -> Iterator[Page]:
    with open_page(browser, server.url, viewport={"width": 1200, "height": 760}) as tab:
        yield tab


def teach(server: DevServer, text: str, noted: str, expected: dict[str, list[str]]) -> str:
    """Say ``text`` in a new thread; the extraction answers ``noted``; wait for ``expected``.

    Returns the thread's id.
    """
    client = get_sync_client(url=server.url, api_key=None)
    scripted_model.settings.replies.append("Nice to know!")
    scripted_model.settings.background_replies.setdefault("memory", []).append(noted)
    thread = client.threads.create()["thread_id"]
    client.runs.wait(thread, GRAPH_ID, input=user(text))
    deadline = time.monotonic() + DEADLINE_S
    while remembered(server) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    assert remembered(server) == expected
    return str(thread)


def remembered(server: DevServer) -> dict[str, list[str]]:
    client = get_sync_client(url=server.url, api_key=None)
    items = client.store.search_items(["local", "memories"], limit=1000)["items"]
    found: dict[str, list[str]] = {}
    for item in items:
        found.setdefault(item["value"]["topic"], []).append(item["value"]["text"])
    return {topic: sorted(texts) for topic, texts in found.items()}


def test_panel_lists_facts_as_written_corrects_and_forgets(server: DevServer, page: Page) -> None:
    intro = "안녕하세요! 저는 지유예요. 광주에 살고 있어요."
    teach(server, intro, "name: 지유\nlocation: 광주", {"name": ["지유"], "location": ["광주"]})
    everything = {"name": ["지유"], "location": ["광주"], "pet": ["Gévaudan"]}
    teach(server, "J'ai une chienne qui s'appelle Gévaudan.", "pet: Gévaudan", everything)

    page.goto(f"{server.url}/chat/")
    panel = page.locator("#memory-panel")
    panel.get_by_text("What I remember about you").click()
    facts = panel.locator(".memory-fact")
    expect(facts).to_have_count(3)
    for topic, text in (("name", "지유"), ("location", "광주"), ("pet", "Gévaudan")):
        row = facts.filter(has=page.locator(".memory-text", has_text=text))
        expect(row).to_have_count(1)
        expect(row.locator(".memory-topic")).to_have_text(topic)

    # Correct where the user lives: same topic, the new value as typed.
    panel.get_by_role("button", name="Edit location: 광주").click()
    panel.get_by_role("textbox", name="New value of location").fill("여수")
    panel.get_by_role("button", name="Save").click()
    expect(panel.locator(".memory-text", has_text="여수")).to_have_count(1)
    expect(panel).not_to_contain_text("광주")
    assert remembered(server) == {"name": ["지유"], "location": ["여수"], "pet": ["Gévaudan"]}

    panel.get_by_role("button", name="Forget pet: Gévaudan").click()
    expect(facts).to_have_count(2)
    expect(panel).not_to_contain_text("Gévaudan")
    assert remembered(server) == {"name": ["지유"], "location": ["여수"]}

    # Learnt elsewhere (another window, the CLI): Refresh shows it. A second pet adds.
    later = {"name": ["지유"], "location": ["여수"], "pet": ["モカ"]}
    teach(server, "うちの猫はモカという名前です。", "pet: モカ", later)
    client = get_sync_client(url=server.url, api_key=None)
    markup = "<img src=x onerror=alert(1)>"
    client.store.put_item(["local", "memories"], "pet:markup", {"topic": "pet", "text": markup})
    panel.get_by_role("button", name="Refresh").click()
    expect(facts).to_have_count(4)
    expect(panel.locator(".memory-text", has_text="モカ")).to_have_count(1)
    expect(panel.locator(".memory-text", has_text=markup)).to_have_count(1)  # shown as text
    expect(panel.locator("img")).to_have_count(0)

    page.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Forget everything").click()
    expect(facts).to_have_count(0)
    expect(panel.get_by_text("Nothing yet.")).to_be_visible()
    expect(panel.get_by_role("button", name="Forget everything")).to_be_hidden()
    assert remembered(server) == {}


def test_deleting_a_conversation_names_the_facts_it_forgets(server: DevServer, page: Page) -> None:
    client = get_sync_client(url=server.url, api_key=None)
    for item in client.store.search_items(["local", "memories"], limit=1000)["items"]:
        client.store.delete_item(["local", "memories"], item["key"])
    teach(
        server, "J'ai une chienne qui s'appelle Gévaudan.", "pet: Gévaudan", {"pet": ["Gévaudan"]}
    )
    intro = "반가워요, 저는 지유라고 해요. 광주에서 살아요."
    everything = {"pet": ["Gévaudan"], "name": ["지유"], "location": ["광주"]}
    teach(server, intro, "name: 지유\nlocation: 광주", everything)

    page.goto(f"{server.url}/chat/")
    asked: list[str] = []

    def dismiss_first_then_accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        if len(asked) == 1:
            dialog.dismiss()
        else:
            dialog.accept()

    page.on("dialog", dismiss_first_then_accept)
    delete = page.get_by_role("button", name=re.compile(r"^Delete conversation: 반가워요"))
    with page.expect_event("dialog"):
        delete.click()
    assert "also forgets what I learnt about you in it: name 지유, location 광주" in asked[0]
    assert remembered(server) == everything, "dismissed: nothing deleted, nothing forgotten"

    with page.expect_event("dialog"):
        delete.click()
    expect(delete).to_have_count(0)
    assert remembered(server) == {"pet": ["Gévaudan"]}, "forgotten before the deletion answered"
