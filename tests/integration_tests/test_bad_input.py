"""Bad input against the real server: a clear 422, the thread untouched, the server fine."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent.testing.dev_server import DevServer

from .helpers import GRAPH_ID, say


def turn(content: Any = "Hi", role: str = "user", **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": role, "content": content}], **extra}


BAD_INPUTS = [
    ("empty", turn(""), "is empty"),
    ("whitespace", turn("   \n\t"), "is empty"),
    ("not text", turn({"image": "x"}), "content must be text"),
    ("image part", turn([{"type": "image_url", "image_url": {"url": "x"}}]), "must be text"),
    ("unknown role", turn(role="wizard"), "role 'wizard' is not one this chatbot accepts"),
    ("system role", turn(role="system"), "role 'system' is not one this chatbot accepts"),
    ("too long", turn("x" * 20_001), "is 20,001 characters long; the limit is 20,000"),
    ("language not a string", turn(language=42), "input.language must be the name of a language"),
    (
        "language too long",
        turn(language="x" * 200),
        "input.language must be the name of a language",
    ),
    ("no messages", {"language": "French"}, "input.messages must be a non-empty list"),
    ("input not an object", "Hi", "input must be an object"),
]


@pytest.fixture(scope="module")
async def thread_with_history(dev_server: DevServer) -> tuple[str, dict[str, Any]]:
    """One thread with one turn, shared: no bad request may change it."""
    client = get_client(url=dev_server.url, api_key=None)
    thread = (await client.threads.create())["thread_id"]
    await say(client, thread, "Hi! I'm Bob")
    return thread, (await client.threads.get_state(thread))["values"]


@pytest.mark.parametrize("endpoint", ["runs/wait", "runs/stream", "runs"])
@pytest.mark.parametrize(
    ("case", "run_input", "message"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS]
)
async def test_bad_input_is_refused_and_the_thread_is_untouched(
    dev_server: DevServer,
    client: LangGraphClient,
    thread_with_history: tuple[str, dict[str, Any]],
    endpoint: str,
    case: str,
    run_input: Any,
    message: str,
) -> None:
    thread, before = thread_with_history
    async with httpx.AsyncClient(base_url=dev_server.url, timeout=30) as http:
        response = await http.post(
            f"/threads/{thread}/{endpoint}",
            json={"assistant_id": GRAPH_ID, "input": run_input},
        )
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]
    assert (await client.threads.get_state(thread))["values"] == before
    assert await client.runs.list(thread) and len(await client.runs.list(thread)) == 1


async def test_broken_json_is_refused_and_the_server_keeps_serving(
    dev_server: DevServer,
    client: LangGraphClient,
    thread_with_history: tuple[str, dict[str, Any]],
) -> None:
    thread, before = thread_with_history
    async with httpx.AsyncClient(base_url=dev_server.url, timeout=30) as http:
        response = await http.post(
            f"/threads/{thread}/runs/wait",
            content=b'{"assistant_id": "chatbot", "input": {"messages": [',
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]
    assert (await client.threads.get_state(thread))["values"] == before
    # The server keeps serving: a good turn right after goes through.
    other = (await client.threads.create())["thread_id"]
    values = await say(client, other, "What is the capital of France?")
    assert len(values["messages"]) == 2
