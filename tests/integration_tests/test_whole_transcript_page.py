"""The chat page shows the whole conversation, also the turns folded into the summary."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from langgraph_sdk import get_sync_client
from playwright.sync_api import Browser, expect

from agent.testing import scripted_model
from agent.testing.dev_server import DevServer, dev_server_with_scripted_model
from agent.testing.turns import GRAPH_ID, user

from .browser import open_page

TURNS = 30


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DevServer]:
    with dev_server_with_scripted_model(tmp_path, CHATBOT_MAX_HISTORY_TOKENS="200") as (
        running,
        _url,
    ):
        scripted_model.settings.summarize_by_rule = True
        yield running


def test_a_folded_conversation_is_shown_whole(browser: Browser, server: DevServer) -> None:
    client = get_sync_client(url=server.url, api_key=None)
    thread = client.threads.create()["thread_id"]
    said = [f"Message number {n} of this long conversation." for n in range(TURNS)]
    runs = [  # queued back to back, as a client that sends while the bot answers
        client.runs.create(thread, GRAPH_ID, input=user(text), multitask_strategy="enqueue")
        for text in said
    ]
    client.runs.join(thread, runs[-1]["run_id"])
    values = client.threads.get_state(thread)["values"]
    assert values.get("summary"), "the budget was outgrown and turns were folded"

    with open_page(browser, server.url) as page:
        page.goto(f"{server.url}/chat/#{thread}")
        messages = page.locator("#messages .message")
        expect(messages).to_have_count(2 * TURNS, timeout=30_000)
        expect(messages.first).to_contain_text(said[0])
        if shot := os.environ.get("WHOLE_TRANSCRIPT_SCREENSHOT"):
            page.screenshot(path=shot)
