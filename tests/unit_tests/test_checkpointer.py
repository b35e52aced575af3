"""The savers, on SQLite and on the machine's PostgreSQL: what they keep, delete and list.

Every test that touches storage runs on both backends (``saver`` is parametrized).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.conformance import checkpointer_test, validate

from agent.conversation.context import Context
from agent.graph import build_graph
from agent.server.delta_history import METHOD, forward_delta_history
from agent.settings import SettingError
from agent.storage.checkpointer import (
    PostgresSaver,
    SqliteSaver,
    checkpointer,
    database_uri,
    postgres_schema,
    redact,
    sqlite_path,
)
from agent.storage.retention import PRUNE_SLACK

WINDOW = 5
"""A small turn window (CHATBOT_HISTORY_TURNS) so pruning shows within a few dozen turns."""


@pytest.fixture(autouse=True)
def no_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("POSTGRES_URI", "DATABASE_URI", "CHATBOT_DB_SCHEMA", "CHATBOT_HISTORY_TURNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHATBOT_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Select SQLite, or a fresh PostgreSQL database, for :func:`checkpointer`."""
    if request.param == "postgres":
        monkeypatch.setenv("POSTGRES_URI", request.getfixturevalue("postgres_uri"))
    return str(request.param)


@pytest.fixture
async def saver(backend: str) -> AsyncIterator[SqliteSaver | PostgresSaver]:
    async with checkpointer() as opened:
        assert isinstance(opened, PostgresSaver if backend == "postgres" else SqliteSaver)
        yield opened


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


LANGGRAPH_DEV_ENVIRONMENT = {"REDIS_URI": "fake", "MIGRATIONS_PATH": "__inmem"}
"""What ``langgraph dev`` sets for its in-memory runtime before langgraph_api is imported."""


async def send_turns(graph: Any, config: Any, first: int, last: int) -> None:
    """Send user messages "turn N" for N in first..last-1, as runs run-N."""
    for number in range(first, last):
        await graph.ainvoke(
            {"messages": [{"role": "user", "content": f"turn {number}"}]},
            {**config, "metadata": {"run_id": f"run-{number}"}},
            context=Context(),
        )


def said(values: dict[str, Any]) -> list[str]:
    return [str(message.content) for message in values.get("messages", [])]


async def test_the_last_turns_keep_every_checkpoint_and_older_ones_go(
    saver: SqliteSaver | PostgresSaver, fake_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATBOT_HISTORY_TURNS", str(WINDOW))
    graph = build_graph(lambda _context: fake_model).compile(checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "long"}}
    most_kept = WINDOW + PRUNE_SLACK
    turns = 4 * most_kept
    await send_turns(graph, config, 0, turns)

    state = await graph.aget_state(config)
    expected = [text for n in range(turns) for text in (f"turn {n}", f"reply {n + 1}")]
    assert said(state.values) == expected, "the transcript is whole, in order"

    history = [snapshot async for snapshot in graph.aget_state_history(config)]
    before_human = {len(s.values["messages"]) for s in history if s.metadata["source"] == "input"}
    before_reply = {len(s.values["messages"]) for s in history if s.next == ("model",)}
    for turn in range(turns - WINDOW, turns):
        assert 2 * turn in before_human, f"no checkpoint before the human message of turn {turn}"
        assert 2 * turn + 1 in before_reply, f"no checkpoint before the reply of turn {turn}"
    assert len(before_human) <= most_kept, "turns beyond the window were pruned"
    for snapshot in history:  # every kept checkpoint still reads as its own prefix
        assert said(snapshot.values) == expected[: len(snapshot.values["messages"])]


async def test_a_fork_from_a_kept_turn_edits_it_and_keeps_the_branch_it_left(
    saver: SqliteSaver | PostgresSaver, fake_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATBOT_HISTORY_TURNS", str(WINDOW))
    graph = build_graph(lambda _context: fake_model).compile(checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "forked"}}
    await send_turns(graph, config, 0, 30)
    history = [snapshot async for snapshot in graph.aget_state_history(config)]
    # Edit turn 27: start from the checkpoint before its human message (source "input").
    before_27 = next(
        s for s in history if s.metadata["source"] == "input" and len(s.values["messages"]) == 54
    )
    edited = await graph.ainvoke(
        {"messages": [{"role": "user", "content": "turn 27, edited"}]},
        before_27.config,
        context=Context(),
    )
    assert said(edited)[:54] == said(before_27.values)
    assert said(edited)[54] == "turn 27, edited" and len(said(edited)) == 56
    old_head = next(s for s in history if not s.next and len(s.values["messages"]) == 60)
    assert said((await graph.aget_state(old_head.config)).values)[54] == "turn 27"


async def test_deleting_a_run_takes_exactly_its_checkpoints(
    saver: SqliteSaver | PostgresSaver, fake_model: Any
) -> None:
    graph = build_graph(lambda _context: fake_model).compile(checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "rolled-back"}}
    await send_turns(graph, config, 0, 3)
    await saver.adelete_for_runs(["run-2"])
    state = await graph.aget_state(config)
    assert said(state.values) == ["turn 0", "reply 1", "turn 1", "reply 2"]
    remaining = [s.metadata.get("run_id") async for s in graph.aget_state_history(config)]
    assert "run-2" not in remaining and {"run-0", "run-1"} <= set(remaining)


async def test_threads_are_listed_with_their_latest_metadata(
    saver: SqliteSaver | PostgresSaver, fake_model: Any
) -> None:
    graph = build_graph(lambda _context: fake_model).compile(checkpointer=saver)
    for thread_id in ("a", "b"):
        await send_turns(graph, {"configurable": {"thread_id": thread_id}}, 0, 2)
    listed = dict(await saver.athreads())
    assert set(listed) == {"a", "b"}
    assert listed["a"]["run_id"] == "run-1"


async def test_keep_latest_refuses_a_thread_stored_as_deltas(fake_model: Any) -> None:
    async with checkpointer() as saver:
        graph = build_graph(lambda _context: fake_model).compile(checkpointer=saver)
        await send_turns(graph, {"configurable": {"thread_id": "t"}}, 0, 2)
        with pytest.raises(NotImplementedError, match="DeltaChannel"):
            await saver.aprune(["t"], strategy="keep_latest")


async def test_the_savers_pass_langgraphs_conformance_suite(backend: str) -> None:
    @checkpointer_test(name=f"chatbot-{backend}")
    async def factory() -> AsyncIterator[Any]:
        async with checkpointer() as opened:
            yield opened

    report = await validate(factory)
    failures = {
        name: result.failures for name, result in report.results.items() if result.passed is False
    }
    assert not failures, failures
    tested = {name for name, result in report.results.items() if result.passed}
    assert {"put", "put_writes", "get_tuple", "list", "delete_thread", "delete_for_runs"} <= tested
    assert "prune" in tested


async def test_the_server_reads_a_long_transcript_in_as_few_queries_as_a_short_one(
    saver: SqliteSaver | PostgresSaver, fake_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server wraps the saver in langgraph-api's adapter; a run's first read must not walk.

    Without the forwarding, the adapter reads the transcript one checkpoint at
    a time back to its last full copy, so a run's start grows with the thread.
    """
    for name, value in LANGGRAPH_DEV_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)  # langgraph_api reads its settings on import
    from langgraph_api._checkpointer._adapter import (
        CheckpointerCapabilities,
        _CustomCheckpointerAdapter,
    )

    forwarded = forward_delta_history()
    try:
        adapter = _CustomCheckpointerAdapter(saver, CheckpointerCapabilities.from_type(type(saver)))
        graph = build_graph(lambda _context: fake_model).compile(checkpointer=adapter)
        config: Any = {"configurable": {"thread_id": "long"}}
        reads: list[Any] = []
        read = saver.aget_tuple

        async def counted(config: Any) -> Any:
            reads.append(config)
            return await read(config)

        monkeypatch.setattr(saver, "aget_tuple", counted)
        reads_at: dict[int, int] = {}
        for first, last in ((0, 3), (3, 40)):
            await send_turns(graph, config, first, last)
            reads.clear()
            state = await graph.aget_state(config)
            reads_at[last] = len(reads)
            assert said(state.values)[-2:] == [f"turn {last - 1}", f"reply {last}"]
            assert len(state.values["messages"]) == 2 * last, "the transcript reads whole"
        assert reads_at[40] == reads_at[3] <= 2, reads_at
    finally:
        if forwarded:
            delattr(_CustomCheckpointerAdapter, METHOD)
