"""The checkpointer: backend choice, keep-latest pruning, thread listing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.conversation.context import Context
from agent.graph import build_graph
from agent.server.recovery import thread_metadata
from agent.settings import SettingError
from agent.storage.checkpointer import (
    SqliteSaver,
    checkpointer,
    database_uri,
    postgres_schema,
    redact,
    sqlite_path,
)


@pytest.fixture(autouse=True)
def no_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("POSTGRES_URI", "DATABASE_URI", "CHATBOT_DB_SCHEMA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHATBOT_DATA_DIR", str(tmp_path / "data"))


def test_sqlite_is_the_default(tmp_path: Path) -> None:
    assert database_uri() is None
    assert sqlite_path() == tmp_path / "data" / "checkpoints.sqlite"


def test_postgres_uri_wins_and_dev_servers_memory_marker_is_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URI", ":memory:")  # what `langgraph dev` sets for itself
    assert database_uri() is None
    monkeypatch.setenv("DATABASE_URI", "postgresql://db/a")
    assert database_uri() == ("DATABASE_URI", "postgresql://db/a")
    monkeypatch.setenv("POSTGRES_URI", "postgresql://db/b")
    assert database_uri() == ("POSTGRES_URI", "postgresql://db/b")


def test_password_is_redacted() -> None:
    redacted = redact("postgresql://alice:s3cret@db.example:5432/chat")
    assert "s3cret" not in redacted and "alice" in redacted and "chat" in redacted


def test_schema_must_be_an_identifier(monkeypatch: pytest.MonkeyPatch) -> None:
    assert postgres_schema() == "chatbot"
    monkeypatch.setenv("CHATBOT_DB_SCHEMA", "x; DROP TABLE y")
    with pytest.raises(SettingError, match="CHATBOT_DB_SCHEMA"):
        postgres_schema()


async def test_sqlite_keeps_only_the_latest_turn_and_the_whole_conversation(fake_model) -> None:
    async with checkpointer() as saver:
        assert isinstance(saver, SqliteSaver)
        graph = build_graph(lambda _context: fake_model).compile(checkpointer=saver)
        for number in range(12):
            config: Any = {"configurable": {"thread_id": "long"}}
            await graph.ainvoke(
                {"messages": [{"role": "user", "content": f"turn {number}"}]},
                config,
                context=Context(),
            )
        await graph.ainvoke(
            {"messages": [{"role": "user", "content": "other"}]},
            {"configurable": {"thread_id": "other"}},
            context=Context(),
        )
        async with saver.conn.execute(
            "SELECT thread_id, count(*) FROM checkpoints GROUP BY thread_id"
        ) as cursor:
            counts = dict(await cursor.fetchall())
        state = await graph.aget_state({"configurable": {"thread_id": "long"}})
        listed = dict(await saver.athreads())

    assert counts["long"] <= 3, counts
    assert [m.content for m in state.values["messages"][::2]] == [f"turn {n}" for n in range(12)]
    assert set(listed) == {"long", "other"}


def test_recovered_thread_keeps_graph_and_owner() -> None:
    metadata = {"graph_id": "chatbot", "langgraph_auth_user_id": "alice", "step": 3}
    assert thread_metadata(metadata) == {"graph_id": "chatbot", "owner": "alice"}
    assert thread_metadata({"langgraph_auth_user_id": ""}) == {}


async def send_turns(graph: Any, config: Any, turns: int) -> None:
    """Send ``turns`` user messages to the thread in ``config``, as runs run-0, run-1, ..."""
    for number in range(turns):
        await graph.ainvoke(
            {"messages": [{"role": "user", "content": f"turn {number}"}]},
            {**config, "metadata": {"run_id": f"run-{number}"}},
            context=Context(),
        )


async def test_keep_history_turns_pruning_off(fake_model, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATBOT_HISTORY_TURNS", "all")
    async with checkpointer() as saver:
        graph = build_graph(lambda _context: fake_model).compile(checkpointer=saver)
        config: Any = {"configurable": {"thread_id": "kept"}}
        await send_turns(graph, config, 4)
        history = [snapshot async for snapshot in graph.aget_state_history(config)]
    assert len(history) >= 4 * 3, "every step of every turn stays available for time travel"


async def test_deleting_a_run_never_wipes_the_conversation(fake_model) -> None:
    async with checkpointer() as saver:
        graph = build_graph(lambda _context: fake_model).compile(checkpointer=saver)
        config: Any = {"configurable": {"thread_id": "t"}}
        await send_turns(graph, config, 2)
        async with saver.conn.execute("SELECT count(*) FROM checkpoints") as cursor:
            before = (await cursor.fetchone())[0]
        await saver.adelete_for_runs(["run-1"])
        async with saver.conn.execute("SELECT count(*) FROM checkpoints") as cursor:
            after = (await cursor.fetchone())[0]
        state = await graph.aget_state(config)
    assert after == 1 < before, "the run's older checkpoints go, the latest stays"
    assert [m.content for m in state.values["messages"][::2]] == ["turn 0", "turn 1"]
