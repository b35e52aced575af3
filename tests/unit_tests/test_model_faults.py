"""Model faults through the real OpenAI client against the scripted model server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agent.context import Context
from agent.graph import build_graph
from agent.local_model.launcher import free_port
from agent.model import ModelCallError
from tests import fake_model_server as fake


@pytest.fixture
def model_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    port = free_port()
    server = fake.serve_in_thread(port)
    fake.settings.failures, fake.settings.requests, fake.settings.delay_s = [], 0, 0.0
    fake.settings.replies = []
    url = f"http://127.0.0.1:{port}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    try:
        yield url
    finally:
        fake.settings.failures = []
        server.should_exit = True


async def turn(graph: Any, text: str) -> Any:
    config = {"configurable": {"thread_id": "t"}}
    return await graph.ainvoke(
        {"messages": [{"role": "user", "content": text}]}, config, context=Context(model="fake")
    )


async def test_a_passing_fault_is_retried_by_the_client(model_url: str) -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    fake.settings.failures = [429, 503]
    fake.settings.replies = ["Hello after two failures."]
    state = await turn(graph, "Hi")
    assert state["messages"][-1].content == "Hello after two failures."
    assert fake.settings.requests == 3, "two retries, then the answer"


async def test_a_lasting_fault_fails_clearly_and_the_next_turn_works(model_url: str) -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    fake.settings.failures = [500, 500, 500]
    with pytest.raises(ModelCallError) as failure:
        await turn(graph, "Hi")
    message = str(failure.value)
    assert f"the model server at {model_url} answered 500 (3 attempts)" in message
    assert fake.settings.requests == 3, "retries are bounded and not multiplied"

    # The failed turn's message stays in the thread; the next turn answers after it.
    state = await turn(graph, "Hello again")
    assert [m.type for m in state["messages"]] == ["human", "human", "ai"]
    assert [m.content for m in state["messages"][:2]] == ["Hi", "Hello again"]


async def test_unreachable_server_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    graph = build_graph().compile(checkpointer=InMemorySaver())
    with pytest.raises(ModelCallError, match=f"the model server at {url} could not be reached"):
        await turn(graph, "Hi")
