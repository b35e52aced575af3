"""The browser chat page (``/chat``), driven in headless Chromium against a real server.

Uses Debian's Chromium through Playwright (``browser.py``, ``make browser``).
Set ``CHAT_PAGE_SCREENSHOT=docs/chat-page.png`` to refresh the README's picture.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from agent.testing.dev_server import DevServer

from .browser import open_page

REPLY_TIMEOUT_MS = 60_000
expect.set_options(timeout=15_000)

pytestmark = pytest.mark.integration


@pytest.fixture
def page(browser: Browser, dev_server: DevServer) -> Iterator[Page]:
    viewport = {"width": 1200, "height": 760}
    with open_page(browser, dev_server.url, timeout_ms=REPLY_TIMEOUT_MS, viewport=viewport) as tab:
        yield tab


def _send(page: Page, text: str) -> None:
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_label("Message", exact=True).press("Enter")


def _wait_reply(page: Page, count: int) -> str:
    """Wait until the conversation shows ``count`` messages and the last reply is complete."""
    messages = page.locator("#messages .message")
    expect(messages).to_have_count(count)
    streaming = page.locator("#messages .message.streaming")
    expect(streaming).to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    return messages.nth(count - 1).locator(".body").inner_text()


def _open_thread_id(page: Page) -> str:
    expect(page).to_have_url(re.compile(r"#[0-9a-f-]{36}$"))
    return page.url.rsplit("#", 1)[1]


def _record_reply_growth(page: Page) -> None:
    """Record every length the newest reply goes through, to prove it streams."""
    page.evaluate(
        """() => {
          window.__replyLengths = [];
          new MutationObserver(() => {
            const bodies = document.querySelectorAll('#messages .message.ai .body');
            const last = bodies[bodies.length - 1];
            if (last) window.__replyLengths.push(last.textContent.length);
          }).observe(document.getElementById('messages'),
                     {childList: true, subtree: true, characterData: true});
        }"""
    )


def test_chat_page_conversations_end_to_end(page: Page, dev_server: DevServer) -> None:
    page.goto(f"{dev_server.url}/chat")
    expect(page.get_by_role("heading", name="Chatbot")).to_be_visible()
    page.get_by_role("button", name="New conversation", exact=True).click()

    # Shift+Enter is a newline, not a send.
    box = page.get_by_label("Message", exact=True)
    box.fill("line one")
    box.press("Shift+Enter")
    box.type("line two")
    assert box.input_value() == "line one\nline two"
    expect(page.locator("#messages .message")).to_have_count(0)

    # First conversation: the name, then the question; the reply streams in.
    _record_reply_growth(page)
    _send(page, "Hi! I'm Bob")
    first_reply = _wait_reply(page, 2)
    assert first_reply.strip() and first_reply != "(no reply)"
    lengths = sorted(set(page.evaluate("window.__replyLengths")) - {0})
    assert len(lengths) > 1, f"the reply arrived in one piece: {lengths}"
    bob = _open_thread_id(page)

    _send(page, "What's my name?")
    answer = _wait_reply(page, 4)
    assert "bob" in answer.lower(), answer
    expect(page.locator(f'#threads li[data-thread-id="{bob}"]')).to_contain_text("Hi! I'm Bob")

    # Reload a bare /chat/: the conversation is in the sidebar with both turns.
    page.goto(f"{dev_server.url}/chat/")
    entry = page.locator(f'#threads li[data-thread-id="{bob}"]')
    expect(entry).to_contain_text("Hi! I'm Bob")
    expect(entry.locator("time")).not_to_be_empty()
    entry.locator(".thread-open").click()
    texts = page.locator("#messages .message .body")
    expect(texts).to_have_count(4)
    assert texts.nth(0).inner_text() == "Hi! I'm Bob"
    assert texts.nth(2).inner_text() == "What's my name?"
    assert texts.nth(3).inner_text() == answer

    # Second conversation, in Spanish; it tops the sidebar (newest first).
    page.get_by_role("button", name="New conversation", exact=True).click()
    expect(page.locator("#messages .message")).to_have_count(0)
    page.get_by_label("Reply language").select_option("Spanish")
    _send(page, "Hello there")
    _wait_reply(page, 2)
    second = _open_thread_id(page)
    assert second != bob
    state = httpx.get(f"{dev_server.url}/threads/{second}/state", timeout=10).json()
    assert state["values"]["language"] == "Spanish"
    order = page.locator("#threads li").evaluate_all("items => items.map(i => i.dataset.threadId)")
    assert order.index(second) < order.index(bob), order

    # Switch back and forth: each shows its own history and language.
    page.locator(f'#threads li[data-thread-id="{bob}"] .thread-open').click()
    expect(texts).to_have_count(4)
    expect(texts.nth(0)).to_have_text("Hi! I'm Bob")
    expect(page.get_by_label("Reply language")).to_have_value("")  # automatic
    expect(page.locator("#reply-language")).to_have_text("Replying in English (detected)")
    page.locator(f'#threads li[data-thread-id="{second}"] .thread-open').click()
    expect(texts).to_have_count(2)
    expect(texts.nth(0)).to_have_text("Hello there")
    expect(page.get_by_label("Reply language")).to_have_value("Spanish")
    expect(page.locator("#reply-language")).to_have_text("Replying in Spanish (set)")

    if target := os.environ.get("CHAT_PAGE_SCREENSHOT"):
        page.locator(f'#threads li[data-thread-id="{bob}"] .thread-open').click()
        expect(texts).to_have_count(4)
        page.get_by_label("Message", exact=True).fill("Nice to meet you too!")
        page.screenshot(path=target)
        page.get_by_label("Message", exact=True).fill("")
        page.locator(f'#threads li[data-thread-id="{second}"] .thread-open').click()
        expect(texts).to_have_count(2)

    # Delete asks first (once it knows what memory learnt there): dismissing keeps it,
    # accepting removes it everywhere.
    delete = page.get_by_role("button", name="Delete conversation: Hello there")
    page.once("dialog", lambda dialog: dialog.dismiss())
    with page.expect_event("dialog"):
        delete.click()
    expect(page.locator(f'#threads li[data-thread-id="{second}"]')).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_event("dialog"):
        delete.click()
    expect(page.locator(f'#threads li[data-thread-id="{second}"]')).to_have_count(0)
    expect(page.locator("#messages .message")).to_have_count(0)
    assert httpx.get(f"{dev_server.url}/threads/{second}", timeout=10).status_code == 404
    expect(page.locator(f'#threads li[data-thread-id="{bob}"]')).to_have_count(1)


def test_server_and_model_failures_are_shown(page: Page, dev_server: DevServer) -> None:
    page.goto(f"{dev_server.url}/chat/")
    alert = page.get_by_role("alert")

    page.route(
        "**/runs/stream",
        lambda route: route.fulfill(status=500, body='{"detail": "database is down"}'),
    )
    _send(page, "Are you there?")
    expect(alert).to_contain_text("500")
    expect(alert).to_contain_text("database is down")
    expect(page.get_by_label("Message", exact=True)).to_have_value("Are you there?")
    page.get_by_role("button", name="Dismiss error").click()
    expect(alert).to_be_hidden()

    failure = json.dumps({"error": "APIConnectionError", "message": "model unreachable"})
    page.unroute("**/runs/stream")
    page.route(
        "**/runs/stream",
        lambda route: route.fulfill(
            status=200,
            content_type="text/event-stream",
            body=f"event: metadata\ndata: {{}}\n\nevent: error\ndata: {failure}\n\n",
        ),
    )
    _send(page, "And now?")
    expect(alert).to_contain_text("The reply failed: APIConnectionError: model unreachable")
    expect(page.locator("#messages .message.ai.failed")).not_to_have_count(0)


def test_a_401_asks_for_a_token_keeps_it_and_retries(page: Page, dev_server: DevServer) -> None:
    seen: list[str | None] = []

    def needs_token(route: Route) -> None:
        header = route.request.headers.get("authorization")
        seen.append(header)
        if header == "Bearer s3cret":
            route.continue_()
        else:
            route.fulfill(status=401, body='{"detail": "Unauthorized"}')

    page.route("**/threads/search", needs_token)
    page.goto(f"{dev_server.url}/chat/")
    dialog = page.get_by_role("dialog", name="Sign in")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Access token").fill("s3cret")
    with page.expect_request(
        lambda sent: (
            "/threads/search" in sent.url and sent.headers.get("authorization") == "Bearer s3cret"
        )
    ):
        dialog.get_by_role("button", name="Continue").click()  # the retry, with the token
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("alert")).to_be_hidden()
    assert seen[0] is None and seen[-1] == "Bearer s3cret", seen
    assert page.evaluate("localStorage.getItem('chatbot.token')") == "s3cret"


def test_a_401_to_the_memory_panel_still_lets_a_message_ask_for_a_token(
    page: Page, dev_server: DevServer
) -> None:
    """The memory panel never opens the sign-in dialog; a message sent while its
    /chatbot/me is in flight shares that request, and when it is refused the message
    asks for a token itself instead of failing."""
    held: list[Route] = []
    refused = 0

    def needs_token(route: Route) -> None:
        nonlocal refused
        if route.request.headers.get("authorization") == "Bearer s3cret":
            route.continue_()
        elif not held:
            held.append(route)  # the panel's: answered below, once the message has asked too
        else:
            refused += 1
            route.fulfill(status=401, body='{"detail": "Unauthorized"}')

    page.route("**/chatbot/me", needs_token)
    page.goto(f"{dev_server.url}/chat/")
    page.get_by_role("heading", name="What I remember about you").click()
    for _ in range(300):
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1, "the memory panel asked who the user is"
    _send(page, "Hello there")
    expect(page.get_by_role("button", name="Send")).to_be_disabled()  # it is sending
    held[0].fulfill(status=401, body='{"detail": "Unauthorized"}')

    dialog = page.get_by_role("dialog", name="Sign in")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Access token").fill("s3cret")
    dialog.get_by_role("button", name="Continue").click()
    _wait_reply(page, 2)
    expect(page.locator("#messages .message.failed")).to_have_count(0)
    assert refused == 1, "the message asked once more, then with the token"


def test_page_is_readable_on_a_narrow_screen(browser: Browser, dev_server: DevServer) -> None:
    with open_page(browser, dev_server.url, viewport={"width": 375, "height": 720}) as tab:
        tab.goto(f"{dev_server.url}/chat/")
        expect(tab.get_by_label("Message", exact=True)).to_be_visible()
        expect(tab.get_by_role("button", name="New conversation", exact=True)).to_be_visible()
        expect(tab.get_by_role("button", name="Send")).to_be_in_viewport()
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the page scrolls sideways: {width}px"
