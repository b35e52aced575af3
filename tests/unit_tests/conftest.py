"""Fixtures for unit tests: the real graph, compiled in memory, with a fake model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph

from agent.conversation.context import Context
from agent.graph import build_graph
from agent.settings import LOCAL_MODEL_URL
from agent.testing import scripted_model as fake_model_server
from agent.testing.fake_chat_model import RecordingChatModel


def numbered_replies() -> Iterator[AIMessage]:
    number = 0
    while True:
        number += 1
        yield AIMessage(content=f"reply {number}")


@pytest.fixture
def fake_model() -> RecordingChatModel:
    return RecordingChatModel(messages=numbered_replies())


@pytest.fixture
def chatbot(fake_model: RecordingChatModel) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The production graph compiled with an in-memory checkpointer and the fake model."""
    return build_graph(lambda _context: fake_model).compile(checkpointer=InMemorySaver())


@pytest.fixture
def turn(
    chatbot: CompiledStateGraph[Any, Any, Any, Any],
) -> Callable[..., Any]:
    """Send one user message to a thread and return the thread's state afterwards."""

    async def send(thread_id: str, text: str, context: Context | None = None, **extra: Any) -> Any:
        config = {"configurable": {"thread_id": thread_id}}
        payload = {"messages": [{"role": "user", "content": text}], **extra}
        return await chatbot.ainvoke(payload, config, context=context or Context())

    return send


@pytest.fixture
def embedded_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The scripted model server posing as the embedded model; yields its base URL."""
    with fake_model_server.running() as url:
        for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv(LOCAL_MODEL_URL.name, url)
        yield url
