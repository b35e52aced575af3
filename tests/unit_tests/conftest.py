"""Fixtures for unit tests: the real graph, compiled in memory, with a fake model."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph

from agent.conversation.context import Context
from agent.graph import build_graph
from agent.settings import LOCAL_MODEL_URL
from agent.storage.checkpointer import PostgresSaver, SqliteSaver, checkpointer
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


@pytest.fixture(params=["sqlite", "postgres"])
async def saver(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[SqliteSaver | PostgresSaver]:
    """The project's saver opened as the server opens it (so its search index is the open one).

    On SQLite in a temporary directory, and on the machine's PostgreSQL.
    """
    for name in ("POSTGRES_URI", "DATABASE_URI", "CHATBOT_DB_SCHEMA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHATBOT_DATA_DIR", str(tmp_path / "data"))
    if request.param == "postgres":
        monkeypatch.setenv("POSTGRES_URI", request.getfixturevalue("postgres_uri"))
    async with checkpointer() as opened:
        yield opened
