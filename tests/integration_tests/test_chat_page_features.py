"""The chat page as a chat app: stop, regenerate, edit and branches, copy, Markdown, safety,
rename, search, export and import; and how it looks: the search box, the header's title, the icon.

Debian's Chromium through Playwright against a real ``langgraph dev`` with the scripted
model, so every reply (Markdown, code, hostile HTML) and its pace are the test's.
Set ``CHAT_PAGE_SCREENSHOTS=docs`` to refresh the README's pictures
(``chat-markdown.png``, ``chat-branches.png``).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient
from playwright.sync_api import Browser, Dialog, Page, expect

from agent.server.tokens import create_token
from agent.testing import scripted_model
from agent.testing.dev_server import (
    DevServer,
    dev_server_with_scripted_model,
)
from agent.testing.turns import GRAPH_ID, user

from .browser import open_page

TIMEOUT_MS = 30_000
SHOTS = os.environ.get("CHAT_PAGE_SCREENSHOTS")
SECRET = "chat-page-features-test-secret-long-enough"

MARKDOWN_REPLY = (
    "## Adding numbers\n\nUse **one** function, in *any* script:\n\n- short\n- tested\n\n"
    "```python\ndef add(a, b):\n    return a + b\n```\n\nSee `add(1, 2)`."
)
HOSTILE_REPLIES = [
    "<script>window.__pwned = 'script'; alert('script')</script>",
    "<img src=x onerror=\"window.__pwned = 'img'; alert('img')\">",
    "[click me](javascript:window.__pwned='link';alert('link'))",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """A dev server with the scripted model (memory off, as every test server's default)."""
    with dev_server_with_scripted_model(tmp_path_factory.mktemp("page-app")) as (running, _):
        yield running


@pytest.fixture
def sdk(server: DevServer) -> Iterator[SyncLangGraphClient]:
    scripted_model.settings.reset()
    try:
        yield get_sync_client(url=server.url, api_key=None)
    finally:
        scripted_model.settings.reset()


@pytest.fixture
def page(browser: Browser, server: DevServer) -> Iterator[Page]:
    with open_page(
        browser,
        server.url,
        timeout_ms=TIMEOUT_MS,
        viewport={"width": 1200, "height": 800},
        permissions=["clipboard-read", "clipboard-write"],
        accept_downloads=True,
    ) as tab:
        yield tab


@pytest.fixture
def dialogs(page: Page) -> list[str]:
    """The messages of every alert, confirm or prompt the page opens (each dismissed)."""
    opened: list[str] = []

    def record(dialog: Dialog) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return opened


def send(page: Page, text: str, count: int) -> None:
    """Send ``text`` and wait until ``count`` messages show and the reply is complete."""
    box = page.get_by_label("Message", exact=True)
    box.fill(text)
    box.press("Enter")
    settle(page, count)


def settle(page: Page, count: int) -> None:
    expect(page.locator("#messages .message")).to_have_count(count, timeout=TIMEOUT_MS)
    expect(page.locator("#messages .message.streaming")).to_have_count(0, timeout=TIMEOUT_MS)
    expect(page.get_by_role("button", name="Send")).to_be_enabled()


def bodies(page: Page) -> list[str]:
    return page.locator("#messages .message .body").all_inner_texts()


def thread_of(page: Page) -> str:
    expect(page).to_have_url(re.compile(r"#[0-9a-f-]{36}$"))
    return page.url.rsplit("#", 1)[1]


def stored(sdk: SyncLangGraphClient, thread: str) -> list[str]:
    values: Any = sdk.threads.get_state(thread)["values"]
    return [str(m["content"]) for m in values.get("messages", [])]


def searchable(server: DevServer, words: str, thread_id: str) -> None:
    """Wait until the server's search finds ``words`` in ``thread_id`` (an outcome, not a time)."""
    for _ in range(600):
        hits = httpx.get(f"{server.url}/chatbot/search", params={"q": words}).json()["hits"]
        if any(hit["thread_id"] == thread_id for hit in hits):
            return
        time.sleep(0.1)
    raise AssertionError(f"{words!r} never found in {thread_id}")


def message(page: Page, index: int) -> Any:
    return page.locator("#messages .message").nth(index)


def test_markdown_and_code_render_and_copy_gives_the_source(
    page: Page, server: DevServer, sdk: SyncLangGraphClient
) -> None:
    scripted_model.settings.replies = [MARKDOWN_REPLY]
    page.goto(f"{server.url}/chat/")
    send(page, "How do I add two numbers in Python?", 2)
    reply = message(page, 1).locator(".body")
    expect(reply.locator("h2")).to_have_text("Adding numbers")
    expect(reply.locator("strong")).to_have_text("one")
    expect(reply.locator("em")).to_have_text("any")
    expect(reply.locator("li")).to_have_count(2)
    expect(reply.locator("p code")).to_have_text("add(1, 2)")
    code = reply.locator("pre code")
    expect(code).to_have_class(re.compile(r"\bhljs\b"))
    expect(code.locator(".hljs-keyword").first).to_have_text("def")
    expect(code).to_have_text("def add(a, b):\n    return a + b")
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "chat-markdown.png"))

    message(page, 1).get_by_role("button", name="Copy").click()
    expect(message(page, 1).get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == MARKDOWN_REPLY
    message(page, 0).get_by_role("button", name="Copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == "How do I add two numbers in Python?"


def test_regenerate_edit_and_switch_branches(
    page: Page, server: DevServer, sdk: SyncLangGraphClient
) -> None:
    scripted_model.settings.replies = ["Hello Bob!", "It is 4.", "You are Bob.", "It is 6."]
    scripted_model.settings.replies += ["Six, I said."]
    page.goto(f"{server.url}/chat/")
    send(page, "Hi! I'm Bob", 2)
    send(page, "What is 2+2?", 4)
    send(page, "What's my name?", 6)
    thread = thread_of(page)
    original = bodies(page)
    expect(page.get_by_role("button", name="Regenerate")).to_have_count(1)  # the last reply

    # Edit the second message: the thread goes on from before it.
    message(page, 2).get_by_role("button", name="Edit").click()
    editor = page.get_by_label("Edit message")
    expect(editor).to_have_value("What is 2+2?")
    editor.fill("What is 3+3?")
    editor.press("Enter")
    settle(page, 4)
    assert bodies(page) == ["Hi! I'm Bob", "Hello Bob!", "What is 3+3?", "It is 6."]
    assert stored(sdk, thread) == bodies(page)
    switcher = message(page, 2).locator(".branches")
    expect(switcher).to_contain_text("2 / 2")
    expect(switcher.get_by_role("button", name="Next version")).to_be_disabled()
    expect(switcher.get_by_role("button", name="Previous version")).to_be_enabled()
    expect(message(page, 0).locator(".branches")).to_have_count(0)

    # Regenerate the last reply: a second version of it.
    message(page, 3).get_by_role("button", name="Regenerate").click()
    settle(page, 4)
    assert bodies(page)[3] == "Six, I said."
    expect(message(page, 3).locator(".branches")).to_contain_text("2 / 2")
    expect(message(page, 2).locator(".branches")).to_contain_text("2 / 2")
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "chat-branches.png"))

    # Back to the first branch: the whole original conversation.
    switcher.get_by_role("button", name="Previous version").click()
    expect(message(page, 2).locator(".branches")).to_contain_text("1 / 2")
    expect(page.locator("#messages .message")).to_have_count(6)
    assert bodies(page) == original
    # ...and a message sent there continues that branch.
    scripted_model.settings.replies = ["Still Bob."]
    send(page, "Am I still Bob?", 8)
    assert stored(sdk, thread) == [*original, "Am I still Bob?", "Still Bob."]
    message(page, 2).get_by_role("button", name="Next version").click()
    expect(page.locator("#messages .message")).to_have_count(4)
    expect(message(page, 3).locator(".body")).to_have_text("Six, I said.")

    # Up in the empty box edits the last message of the branch shown.
    box = page.get_by_label("Message", exact=True)
    box.fill("")
    box.press("ArrowUp")
    expect(page.get_by_label("Edit message")).to_have_value("What is 3+3?")
    page.get_by_label("Edit message").press("Escape")
    expect(page.get_by_label("Edit message")).to_have_count(0)


def test_hostile_replies_show_as_text_and_run_nothing(
    page: Page, server: DevServer, sdk: SyncLangGraphClient, dialogs: list[str]
) -> None:
    scripted_model.settings.replies = list(HOSTILE_REPLIES)
    page.goto(f"{server.url}/chat/")
    for turn in range(3):
        send(page, f"Hostile reply number {turn + 1}, please", 2 * turn + 2)
    shown = bodies(page)
    assert shown[1] == HOSTILE_REPLIES[0], "the script is shown as text"
    assert shown[3] == HOSTILE_REPLIES[1], "the image tag is shown as text"
    assert shown[5] == "click me"
    messages = page.locator("#messages")
    expect(messages.locator("script, img, iframe, [onerror]")).to_have_count(0)
    link = message(page, 5).locator(".body a")
    assert (link.get_attribute("href") or "").lower().startswith("javascript") is False
    link.click()
    # Reloading the thread renders the stored replies again: still inert.
    page.reload()
    settle(page, 6)
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []


def test_stop_cancels_the_run_on_the_server(
    page: Page, server: DevServer, sdk: SyncLangGraphClient
) -> None:
    scripted_model.settings.word_delay_s = 0.3
    scripted_model.settings.replies = ["Once upon a time " + "word " * 80]
    page.goto(f"{server.url}/chat/")
    box = page.get_by_label("Message", exact=True)
    box.fill("Tell me a very long story")
    box.press("Enter")
    expect(message(page, 1).locator(".body")).to_contain_text("Once upon")
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_role("status")).to_contain_text("Reply stopped")
    thread = thread_of(page)
    assert [run["status"] for run in sdk.runs.list(thread)] == ["interrupted"]
    assert stored(sdk, thread) == ["Tell me a very long story"]
    expect(page.locator("#messages .message")).to_have_count(1)
    expect(page.get_by_role("button", name="Stop")).to_be_hidden()

    # Escape stops too; Retry then answers the message left without a reply, and nothing
    # of either stopped reply ever arrives, in the page or in the thread.
    scripted_model.settings.replies = ["Twice upon a time " + "word " * 80]
    box.fill("Another long one")
    box.press("Enter")
    expect(message(page, 2).locator(".body")).to_contain_text("Twice upon")
    page.keyboard.press("Escape")
    expect(page.locator("#messages .message")).to_have_count(2)
    expect(page.get_by_role("status")).to_contain_text("Reply stopped")
    assert stored(sdk, thread) == ["Tell me a very long story", "Another long one"]

    scripted_model.settings.word_delay_s = 0
    scripted_model.settings.replies = ["The end."]
    message(page, 1).get_by_role("button", name="Retry").click()
    settle(page, 3)
    assert bodies(page) == ["Tell me a very long story", "Another long one", "The end."]
    assert stored(sdk, thread) == bodies(page)
    statuses = [run["status"] for run in sdk.runs.list(thread)]
    assert sorted(statuses) == ["interrupted", "interrupted", "success"], statuses


def test_search_finds_a_korean_two_character_word_and_opens_its_message(
    page: Page, server: DevServer, sdk: SyncLangGraphClient
) -> None:
    scripted_model.settings.replies = ["알겠어요.", *(f"답장 {n}번" for n in range(1, 25))]
    busan = sdk.threads.create(metadata={"graph_id": GRAPH_ID})["thread_id"]
    said = "저는 <b>부산</b>에서 살아요 <img src=x onerror=\"window.__pwned='snippet'\">"
    sdk.runs.wait(busan, GRAPH_ID, input=user(said))
    for n in range(1, 25):  # enough turns after it that the page opens far below it
        sdk.runs.wait(busan, GRAPH_ID, input=user(f"이야기 {n}번째"))
    other = sdk.threads.create(metadata={"graph_id": GRAPH_ID})["thread_id"]
    sdk.runs.wait(other, GRAPH_ID, input=user("서울은 어때요?"))
    searchable(server, "부산", busan)
    searchable(server, "서울", other)

    page.goto(f"{server.url}/chat/#{other}")
    settle(page, 2)
    page.get_by_label("Search conversations").fill("부산")  # two syllables, 에서 attached
    expect(page.locator("#threads")).to_have_attribute("data-searched", "부산")
    expect(page.locator("#threads li")).to_have_count(1)
    entry = page.locator(f'#threads li[data-thread-id="{busan}"]')
    snippet = entry.locator(".thread-snippet")
    expect(snippet).to_have_text(said)  # the words as written: shown as text, never as HTML
    expect(snippet.locator("b, img")).to_have_count(0)
    entry.locator(".thread-open").click()
    settle(page, 50)
    found = page.locator("#messages .message.found")
    expect(found).to_have_count(1)
    expect(found.locator(".body")).to_have_text(said)
    expect(found).to_be_in_viewport()
    expect(message(page, 49)).not_to_be_in_viewport()
    assert page.evaluate("window.__pwned") is None

    # The link `chatbot search` prints opens the page at the message too.
    (hit,) = httpx.get(f"{server.url}/chatbot/search", params={"q": "부산"}).json()["hits"]
    page.goto(f"{server.url}/chat/#{other}")
    settle(page, 2)
    page.goto(f"{server.url}/chat/#{busan}/{hit['message_id']}")
    settle(page, 50)
    expect(page.locator("#messages .message.found .body")).to_have_text(said)
    expect(page.locator("#messages .message.found")).to_be_in_viewport()


def test_rename_search_export_and_import(
    page: Page, server: DevServer, sdk: SyncLangGraphClient, tmp_path: Path
) -> None:
    scripted_model.settings.replies = ["Pelicans glide.", "```js\nconsole.log('x')\n```"]
    birds = sdk.threads.create(metadata={"graph_id": GRAPH_ID})["thread_id"]
    sdk.runs.wait(birds, GRAPH_ID, input={**user("Tell me about pelicans"), "language": "French"})
    sdk.runs.wait(birds, GRAPH_ID, input=user("And some code"))
    other = sdk.threads.create(metadata={"graph_id": GRAPH_ID})["thread_id"]
    sdk.runs.wait(other, GRAPH_ID, input=user("Weather in Oslo"))

    page.goto(f"{server.url}/chat/#{birds}")
    settle(page, 4)
    entry = page.locator(f'#threads li[data-thread-id="{birds}"]')
    entry.get_by_role("button", name=re.compile("^Rename conversation")).click()
    title = page.get_by_label("New title")
    title.fill("Bird notes")
    title.press("Enter")
    expect(entry.locator(".thread-title")).to_have_text("Bird notes")
    expect(page.locator("#thread-title")).to_have_text("Bird notes")
    assert (sdk.threads.get(birds)["metadata"] or {})["title"] == "Bird notes"

    searchable(server, "oslo", other)  # indexed by the chores after each reply
    searchable(server, "console.log", birds)
    search = page.get_by_label("Search conversations")
    search.fill("bird NOTES")  # the title
    expect(page.locator("#threads li")).to_have_count(1)
    expect(entry).to_be_visible()
    search.fill("oslo")  # words of a message
    expect(page.locator("#threads li")).to_have_count(1)
    expect(page.locator(f'#threads li[data-thread-id="{other}"]')).to_be_visible()
    search.fill("console.log")  # words of a reply
    expect(page.locator("#threads li")).to_have_count(1)
    expect(entry).to_be_visible()
    search.fill("zebra")
    expect(page.locator("#threads li")).to_have_count(0)
    expect(page.get_by_text("No conversation matches.")).to_be_visible()
    search.fill("")

    with page.expect_download() as markdown_download:
        page.get_by_role("button", name="Export Markdown").click()
    markdown = Path(markdown_download.value.path()).read_text()
    assert markdown.startswith("# Bird notes\n")
    assert "**You:**\n\nTell me about pelicans\n" in markdown
    assert "**Bot:**\n\n```js\nconsole.log('x')\n```\n" in markdown

    with page.expect_download() as json_download:
        page.get_by_role("button", name="Export JSON").click()
    exported = tmp_path / "birds.json"
    json_download.value.save_as(exported)
    data = json.loads(exported.read_text())
    assert data["title"] == "Bird notes" and data["language"] == "French"
    assert [m["content"] for m in data["messages"]] == stored(sdk, birds)

    requests = scripted_model.settings.requests
    page.locator("#import-file").set_input_files(str(exported))
    expect(page.get_by_role("status")).to_contain_text("Imported 4 messages")
    copy = thread_of(page)
    assert copy != birds
    settle(page, 4)
    assert bodies(page)[:3] == ["Tell me about pelicans", "Pelicans glide.", "And some code"]
    assert stored(sdk, copy) == stored(sdk, birds)
    assert scripted_model.settings.requests == requests, "importing called no model"
    expect(page.locator("#thread-title")).to_have_text("Bird notes")
    expect(page.get_by_label("Reply language")).to_have_value("French")
    expect(page.locator(f'#threads li[data-thread-id="{copy}"]')).to_contain_text("Bird notes")

    broken = tmp_path / "broken.json"
    broken.write_text('{"hello": "world"}')
    page.locator("#import-file").set_input_files(str(broken))
    expect(page.get_by_role("alert")).to_contain_text("not a conversation export")


def test_the_reply_language_is_shown_and_automatic_is_the_default(
    page: Page, server: DevServer, sdk: SyncLangGraphClient
) -> None:
    # The scripted model detects nothing: the graph detects the user's language itself.
    scripted_model.settings.replies = ["네, 반가워요.", "Avec plaisir.", "Es ist zehn Uhr."]
    page.goto(f"{server.url}/chat/")
    selector = page.get_by_label("Reply language")
    shown = page.locator("#reply-language")
    expect(selector).to_have_value("")
    expect(selector.locator("option:checked")).to_have_text("Automatic (the user's language)")
    expect(shown).to_have_text("Replies in the language you write")

    send(page, "안녕하세요, 저는 도하린이라고 해요. 여수에 살아요.", 2)
    thread = thread_of(page)
    values: Any = sdk.threads.get_state(thread)["values"]
    assert "language" not in values, "automatic sends no language"
    assert values["reply_language"] == "Korean"
    expect(shown).to_have_text("Replying in Korean (detected)")

    selector.select_option("French")
    expect(shown).to_have_text("Will reply in French (set)")
    send(page, "Thank you, that helps a lot!", 4)
    values = sdk.threads.get_state(thread)["values"]
    assert (values["language"], values["reply_language"]) == ("French", "French")
    expect(shown).to_have_text("Replying in French (set)")

    selector.select_option("")  # back to automatic: clears the thread's language
    expect(shown).to_have_text("Will reply in the language you write")
    send(page, "Wie spät ist es gerade in Regensburg?", 6)
    values = sdk.threads.get_state(thread)["values"]
    assert (values["language"], values["reply_language"]) == ("", "German")
    expect(shown).to_have_text("Replying in German (detected)")

    page.reload()
    settle(page, 6)
    expect(selector).to_have_value("")
    expect(shown).to_have_text("Replying in German (detected)")

    # A language set through the SDK shows as set, in the selector and beside it.
    scripted_model.settings.replies = ["Hola."]
    spanish = sdk.threads.create(metadata={"graph_id": GRAPH_ID})["thread_id"]
    sdk.runs.wait(spanish, GRAPH_ID, input={**user("Hello there"), "language": "Spanish"})
    page.goto(f"{server.url}/chat/#{spanish}")
    settle(page, 2)
    expect(selector).to_have_value("Spanish")
    expect(shown).to_have_text("Replying in Spanish (set)")

    # A new conversation starts automatic again, whatever the last one had.
    page.get_by_role("button", name="New conversation", exact=True).click()
    expect(selector).to_have_value("")
    expect(shown).to_have_text("Replies in the language you write")


def test_a_long_thread_reads_its_newest_checkpoints_and_older_ones_when_needed(
    browser: Browser, server: DevServer, sdk: SyncLangGraphClient
) -> None:
    thread = sdk.threads.create(metadata={"graph_id": GRAPH_ID})["thread_id"]
    for turn in range(8):
        sdk.runs.wait(thread, GRAPH_ID, input=user(f"Turn number {turn}"))
    viewport = {"width": 1200, "height": 800}
    with open_page(browser, server.url, timeout_ms=TIMEOUT_MS, viewport=viewport) as tab:
        # A budget of 40 messages: 16 messages shown, so the page reads the newest 10 checkpoints.
        tab.add_init_script("window.CHATBOT_HISTORY_BUDGET = 40")
        reads: list[dict[str, Any]] = []
        tab.on(
            "request",
            lambda r: reads.append(r.post_data_json) if r.url.endswith("/history") else None,
        )
        tab.goto(f"{server.url}/chat/#{thread}")
        settle(tab, 16)
        assert reads == [{"limit": 10}]
        scripted_model.settings.replies = ["A new start."]
        message(tab, 0).get_by_role("button", name="Edit").click()
        tab.get_by_label("Edit message").fill("A different first message")
        tab.get_by_label("Edit message").press("Enter")
        settle(tab, 2)
        assert bodies(tab) == ["A different first message", "A new start."]
        assert stored(sdk, thread) == bodies(tab)
        assert any("before" in body for body in reads[1:]), reads
        # The first conversation is still there, one click away.
        message(tab, 0).get_by_role("button", name="Previous version").click()
        expect(tab.locator("#messages .message")).to_have_count(16)
        expect(message(tab, 0).locator(".body")).to_have_text("Turn number 0")


PAGE_WIDTHS = (1280, 800)
"""A desktop window and a narrow one, the sidebar still beside the conversation."""

PLACEHOLDER_FIT = """(box) => {
  const style = getComputedStyle(box);
  const pen = document.createElement("canvas").getContext("2d");
  pen.font = style.font;
  const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  // Typed in, the same text is laid out where the placeholder is, beside the clear button.
  const value = box.value;
  box.value = box.placeholder;
  const typed = box.scrollWidth;
  box.value = value;
  return { text: pen.measureText(box.placeholder).width, room, typed, box: box.clientWidth };
}"""

TITLE_FIT = """(title) => {
  const head = title.parentElement;
  const box = title.getBoundingClientRect();
  const beside = (el) => {
    const b = el.getBoundingClientRect();
    return b.top < box.bottom && box.top < b.bottom;
  };
  // The controls the title must leave room for, when they share its row.
  const tools = [...head.querySelectorAll(".chat-tools button, .chat-tools label, #reply-language")]
    .filter((el) => el.offsetWidth);
  const lefts = beside(head.querySelector(".chat-tools"))
    ? tools.map((el) => el.getBoundingClientRect().left)
    : [];
  const style = getComputedStyle(head);
  const end = lefts.length
    ? Math.min(...lefts) - parseFloat(style.columnGap)
    : head.getBoundingClientRect().right - parseFloat(style.paddingRight);
  return {
    cut: title.scrollWidth > title.clientWidth,
    ellipsis: getComputedStyle(title).textOverflow === "ellipsis",
    width: box.width,
    room: end - box.left,
    sideways: document.documentElement.scrollWidth > window.innerWidth,
  };
}"""

DECODES = "href => { const i = new Image(); i.src = href; return i.decode().then(() => true); }"

FITTING_TITLE = "Packing list for the Lofoten trip in May"
TOO_LONG_TITLE = (
    "Packing list for the Lofoten trip in May, with the ferry times from Bodø, the cabins "
    "we booked in Reine and Henningsvær, and who brings the tent, the stove and the maps"
)


def test_the_search_box_shows_its_whole_placeholder(browser: Browser, server: DevServer) -> None:
    for width in PAGE_WIDTHS:
        viewport = {"width": width, "height": 800}
        with open_page(browser, server.url, timeout_ms=TIMEOUT_MS, viewport=viewport) as tab:
            tab.goto(f"{server.url}/chat/")
            search = tab.get_by_label("Search conversations")  # its label, for screen readers
            expect(search).to_be_visible()
            assert search.get_attribute("placeholder")
            fit = search.evaluate(PLACEHOLDER_FIT)
            assert fit["text"] <= fit["room"], (width, fit)
            assert fit["typed"] <= fit["box"], (width, fit)


def test_the_header_shows_a_title_whole_and_cuts_only_one_too_long_for_it(
    browser: Browser, server: DevServer, sdk: SyncLangGraphClient
) -> None:
    threads = {}
    for title in (FITTING_TITLE, TOO_LONG_TITLE):
        thread = sdk.threads.create(metadata={"graph_id": GRAPH_ID, "title": title})["thread_id"]
        sdk.runs.wait(thread, GRAPH_ID, input=user("Hello"))
        threads[title] = thread
    for width in PAGE_WIDTHS:
        viewport = {"width": width, "height": 800}
        with open_page(browser, server.url, timeout_ms=TIMEOUT_MS, viewport=viewport) as tab:
            tab.goto(f"{server.url}/chat/")
            heading = tab.locator("#thread-title")
            for title, thread in threads.items():
                tab.goto(f"{server.url}/chat/#{thread}")
                expect(heading).to_have_text(title)  # the whole title is in the page...
                expect(heading).to_have_attribute("title", title)  # ...and in its tooltip
                settle(tab, 2)
                fit = heading.evaluate(TITLE_FIT)
                assert not fit["sideways"], (width, fit)
                if title == FITTING_TITLE:
                    assert not fit["cut"], f"{width}px: a title that fits is cut short: {fit}"
                else:
                    assert fit["cut"] and fit["ellipsis"], (width, fit)
                    assert fit["width"] >= fit["room"] - 1, f"{width}px: room to spare: {fit}"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    workdir = tmp_path_factory.mktemp("page-app-auth")
    with dev_server_with_scripted_model(workdir, CHATBOT_AUTH_SECRET=SECRET) as (running, _url):
        yield running


@contextmanager
def signed_in(browser: Browser, server: DevServer, user_id: str) -> Iterator[tuple[Page, str]]:
    """A page whose browser already keeps ``user_id``'s token, and that token."""
    token = create_token(user_id, SECRET)
    viewport = {"width": 1200, "height": 800}
    with open_page(
        browser, server.url, timeout_ms=TIMEOUT_MS, viewport=viewport, accept_downloads=True
    ) as tab:
        tab.add_init_script(f"localStorage.setItem('chatbot.token', {json.dumps(token)})")
        yield tab, token


def test_with_auth_on_rename_import_and_search_stay_within_the_users_own(
    browser: Browser, auth_server: DevServer, tmp_path: Path
) -> None:
    scripted_model.settings.reset()
    scripted_model.settings.replies = ["They do, softly."]
    with (
        signed_in(browser, auth_server, "alice") as (alice, alice_token),
        signed_in(browser, auth_server, "bob") as (bob, _),
    ):
        try:
            alice.goto(f"{auth_server.url}/chat/")
            send(alice, "Alpacas hum", 2)
            first = thread_of(alice)
            entry = alice.locator(f'#threads li[data-thread-id="{first}"]')
            entry.get_by_role("button", name=re.compile("^Rename conversation")).click()
            alice.get_by_label("New title").fill("Alpaca notes")
            alice.get_by_label("New title").press("Enter")
            expect(entry.locator(".thread-title")).to_have_text("Alpaca notes")

            with alice.expect_download() as download:
                alice.get_by_role("button", name="Export JSON").click()
            exported = tmp_path / "alpacas.json"
            download.value.save_as(exported)
            alice.locator("#import-file").set_input_files(str(exported))
            expect(alice.get_by_role("status")).to_contain_text("Imported 2 messages")
            copy = thread_of(alice)
            assert copy != first

            own = get_sync_client(
                url=auth_server.url,
                api_key=None,
                headers={"Authorization": f"Bearer {alice_token}"},
            )
            for thread in (first, copy):
                metadata: Any = own.threads.get(thread)["metadata"]
                assert (metadata["owner"], metadata["title"]) == ("alice", "Alpaca notes")
            assert stored(own, copy) == stored(own, first) == ["Alpacas hum", "They do, softly."]

            alice.get_by_label("Search conversations").fill("alpaca")
            expect(alice.locator("#threads li")).to_have_count(2)

            bob.goto(f"{auth_server.url}/chat/")
            expect(bob.get_by_role("heading", name="Chatbot")).to_be_visible()
            bob.get_by_label("Search conversations").fill("alpaca")
            expect(bob.get_by_text("No conversation matches.")).to_be_visible()
            expect(bob.locator("#threads li")).to_have_count(0)
            bob.goto(f"{auth_server.url}/chat/#{first}")
            expect(bob.get_by_role("alert")).to_contain_text("404")
            expect(bob.locator("#messages .message")).to_have_count(0)
        finally:
            scripted_model.settings.reset()


@pytest.mark.parametrize("auth", ["off", "on"])
def test_nothing_the_page_loads_is_missing_and_its_icon_needs_no_token(
    browser: Browser, request: pytest.FixtureRequest, auth: str
) -> None:
    running: DevServer = request.getfixturevalue("auth_server" if auth == "on" else "server")
    with open_page(browser, running.url, timeout_ms=TIMEOUT_MS) as tab:
        missing: list[str] = []
        tab.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
        tab.goto(f"{running.url}/chat/")
        if auth == "on":  # the page waits for a token, its assets all loaded
            expect(tab.get_by_role("dialog", name="Sign in")).to_be_visible()
        else:  # the page is done: threads listed, then the model shown
            expect(tab.locator("#model-info")).to_contain_text("Model:")
        link = tab.locator('link[rel="icon"]')
        expect(link).to_have_count(1)  # or the browser asks for /favicon.ico by itself
        icon = link.evaluate("link => link.href")
        for url in (icon, f"{running.url}/favicon.ico"):
            answer = tab.request.get(url)
            assert answer.status == 200, (url, answer.status)
            assert answer.headers["content-type"].startswith("image/"), answer.headers
        assert tab.evaluate(DECODES, icon) is True, "the icon is an image the browser can show"
        assert missing == [], f"the page asked for what is not there: {missing}"
