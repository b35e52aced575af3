"""Two windows on one thread: the second message waits its turn, and the CLI says so."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from langgraph_sdk import get_client

from agent.testing import scripted_model as fake
from agent.testing.dev_server import DevServer, dev_server_with_scripted_model

from .helpers import GRAPH_ID, chatbot, user


@pytest.fixture
def slow_model_server(tmp_path: Path) -> Iterator[DevServer]:
    """A dev server whose model is the scripted one (the test makes it slow)."""
    with dev_server_with_scripted_model(tmp_path) as (server, _model_url):
        yield server


async def test_message_sent_during_a_reply_is_queued_and_answered_after_it(
    slow_model_server: DevServer,
) -> None:
    client = get_client(url=slow_model_server.url, api_key=None)
    thread = (await client.threads.create())["thread_id"]
    fake.settings.delay_s = 4.0
    await client.runs.create(thread, GRAPH_ID, input=user("first window"))

    async def busy() -> bool:
        return (await client.threads.get(thread))["status"] == "busy"

    for _ in range(100):
        if await busy():
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the first reply never started")

    second = await asyncio.to_thread(
        chatbot, slow_model_server.url, "chat", "--thread", thread, stdin="second window\n"
    )
    assert second.returncode == 0, second.stderr
    assert "Yours is queued and will be answered right after it" in second.stdout
    assert f"bot> {fake.REPLY.strip()}" in " ".join(second.stdout.split())

    messages = (await client.threads.get_state(thread))["values"]["messages"]
    assert [(m["type"], m["content"].strip()) for m in messages] == [
        ("human", "first window"),
        ("ai", fake.REPLY),
        ("human", "second window"),
        ("ai", fake.REPLY),
    ]
