"""Fences around the dependency internals this project relies on.

Each test fails loudly, naming the internal and the installed version, when a
release moves what a patch or a query relies on, rather than letting the
chatbot turn silently slower or lose data; and the code falls back to the
public behaviour, with a warning, when the internal is absent.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.postgres.aio import AsyncPostgresStore
from langgraph.store.sqlite.aio import AsyncSqliteStore

from agent.memory import order
from agent.memory.store import store as memory_store_of_the_server
from agent.server import delta_history
from agent.server.delta_history import METHOD, forward_delta_history
from agent.storage import kept_runs, sqlite
from agent.storage.checkpointer import PostgresSaver, SqliteSaver
from agent.storage.fences import installed_version, versions
from agent.storage.kept_runs import keeping_turns_of, runs_to_forget
from tests.unit_tests import test_checkpointer as storage_tests

LANGGRAPH_DEV_ENVIRONMENT = storage_tests.LANGGRAPH_DEV_ENVIRONMENT
no_database = storage_tests.no_database
backend = storage_tests.backend
saver = storage_tests.saver
"""The storage tests' fixtures: SQLite in a temporary folder, and the machine's PostgreSQL."""


@pytest.fixture
def langgraph_dev_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in LANGGRAPH_DEV_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)  # langgraph_api reads its settings on import


def _adapter_class() -> Any:
    try:
        from langgraph_api._checkpointer._adapter import (
            CheckpointerCapabilities,
            _CustomCheckpointerAdapter,
        )
    except ImportError as error:
        pytest.fail(
            f"langgraph-api {installed_version('langgraph-api')}: "
            f"{delta_history.ADAPTER_MODULE}.{delta_history.ADAPTER_CLASS} is gone ({error}); "
            "agent/server/delta_history.py no longer speeds up the transcript read"
        )
    return _CustomCheckpointerAdapter, CheckpointerCapabilities


async def test_langgraph_api_adapter_still_wraps_our_saver_as_inner(
    saver: SqliteSaver | PostgresSaver, langgraph_dev_environment: None
) -> None:
    adapter_class, capabilities = _adapter_class()
    adapter = adapter_class(saver, capabilities.from_type(type(saver)))
    version = installed_version("langgraph-api")
    assert vars(adapter).get(delta_history.WRAPPED_SAVER) is saver, (
        f"langgraph-api {version}: {delta_history.ADAPTER_CLASS} no longer keeps the saver "
        f"as {delta_history.WRAPPED_SAVER}; delta_history's forwarding falls back to the slow read"
    )
    forwarded = forward_delta_history()
    try:
        assert vars(adapter_class)[METHOD] is not None
        if forwarded:
            assert vars(adapter_class)[METHOD] is delta_history._forwarded
        else:
            pytest.fail(
                f"langgraph-api {version} defines {delta_history.ADAPTER_CLASS}.{METHOD} itself: "
                "check that it forwards to the saver and drop agent/server/delta_history.py"
            )
    finally:
        if forwarded:
            delattr(adapter_class, METHOD)


def test_a_missing_adapter_is_a_warning_not_a_failure(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    langgraph_dev_environment: None,
) -> None:
    monkeypatch.setattr(delta_history, "ADAPTER_CLASS", "_NoSuchAdapter")
    monkeypatch.setattr(delta_history, "_warned", set())
    with caplog.at_level(logging.WARNING, logger=delta_history.__name__):
        assert forward_delta_history() is False
    assert "_NoSuchAdapter is gone" in caplog.text
    assert f"langgraph-api {installed_version('langgraph-api')}" in caplog.text


async def test_an_adapter_without_inner_reads_the_public_way(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(delta_history, "_warned", set())
    plain = InMemorySaver()
    config: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "x"}}
    with caplog.at_level(logging.WARNING, logger=delta_history.__name__):
        history = await delta_history._forwarded(plain, config=config, channels=["messages"])
    assert set(history) <= {"messages"}
    assert "no longer holds the saver as _inner" in caplog.text


async def test_the_savers_find_every_table_column_and_internal_they_use(
    saver: SqliteSaver | PostgresSaver,
) -> None:
    missing = await saver.missing_internals()
    assert missing == [], f"{versions()}: moved internals that agent/storage relies on: {missing}"
    assert saver.pruning


async def test_a_moved_internal_turns_pruning_off_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    moved = {**sqlite.TABLE_COLUMNS, "writes": ("thread_id", "no_such_column")}
    monkeypatch.setattr(sqlite.SqliteSaver, "table_columns", moved)
    from agent.storage.checkpointer import checkpointer

    with caplog.at_level(logging.WARNING):
        async with checkpointer() as opened:
            assert opened.pruning is False
    assert "table writes, column no_such_column" in caplog.text
    assert "langgraph-checkpoint-sqlite" in caplog.text and "is not pruned" in caplog.text


async def test_a_failing_prune_warns_naming_the_thread_and_the_fix(
    saver: SqliteSaver | PostgresSaver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(thread_id: str) -> Any:
        raise RuntimeError("no such column: parent_checkpoint_id")

    monkeypatch.setattr(saver, "alineage", broken)
    with caplog.at_level(logging.WARNING):
        await saver.aprune_history("thread-42", 5)
    warning = next(r for r in caplog.records if r.levelno == logging.WARNING)
    text = warning.getMessage()
    assert "thread-42" in text and "no such column" in text
    assert "CHATBOT_HISTORY_TURNS=all" in text and "langgraph-checkpoint" in text


async def test_the_in_memory_runtime_deletes_a_runs_checkpoints_inside_the_request(
    monkeypatch: pytest.MonkeyPatch, langgraph_dev_environment: None
) -> None:
    """``kept_runs`` marks the DELETE request; the runtime must call the saver within it."""
    version = installed_version("langgraph-runtime-inmem")
    from langgraph_api import _checkpointer as api_checkpointer
    from langgraph_api import config as api_config
    from langgraph_runtime_inmem import ops

    asked: list[list[str]] = []

    class Recorder:
        async def adelete_for_runs(self, run_ids: list[str]) -> None:
            asked.append(runs_to_forget(run_ids))

    async def recorder() -> Recorder:
        return Recorder()

    class Connection:
        store: dict[str, Any]

    run_id, thread_id = uuid.uuid4(), uuid.uuid4()
    conn = Connection()
    conn.store = {"runs": [{"run_id": run_id, "thread_id": thread_id}]}
    monkeypatch.setattr(api_config, "USE_CUSTOM_CHECKPOINTER", True)
    monkeypatch.setattr(api_checkpointer, "get_checkpointer", recorder)
    monkeypatch.setattr(kept_runs, "_kept_until", {})
    with keeping_turns_of([str(run_id)]):
        await ops.Runs.delete(conn, run_id, thread_id=thread_id, ctx=None)  # type: ignore[arg-type]
    assert asked, (
        f"langgraph-runtime-inmem {version}: Runs.delete no longer calls the checkpointer's "
        "adelete_for_runs; check agent/storage/kept_runs.py and agent/server/run_records.py"
    )
    assert asked == [[]], (
        f"langgraph-runtime-inmem {version}: Runs.delete deletes a run's checkpoints outside "
        "the request; only kept_runs' grace period now keeps a deleted run's turn"
    )


def test_a_deleted_runs_turns_stay_kept_after_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kept_runs, "_kept_until", {})
    with keeping_turns_of(["run-1"]):
        assert runs_to_forget(["run-1", "run-2"]) == ["run-2"]
    assert runs_to_forget(["run-1", "run-2"]) == ["run-2"], "deferred deletion keeps it too"
    monkeypatch.setattr(kept_runs, "KEEP_AFTER_S", -1.0)
    with keeping_turns_of(["run-3"]):
        pass
    assert runs_to_forget(["run-3"]) == ["run-3"]


def test_langgraph_dev_names_its_runtime_and_index_file_as_recovery_expects(
    langgraph_dev_environment: None,
) -> None:
    """Recovery runs where ``LANGGRAPH_RUNTIME_EDITION`` is ``inmem`` and reads the index's mtime."""
    import importlib.util
    import inspect

    from langgraph_api import cli
    from langgraph_runtime_inmem import database

    from agent.server import recovery

    api, runtime = installed_version("langgraph-api"), installed_version("langgraph-runtime-inmem")
    assert "LANGGRAPH_RUNTIME_EDITION" in inspect.getsource(cli.run_server), (
        f"langgraph-api {api}: `langgraph dev` no longer sets LANGGRAPH_RUNTIME_EDITION; "
        "agent/server/recovery.py would never run"
    )
    spec = importlib.util.find_spec(recovery.RUNTIME_MODULE)  # read, not imported: no side effects
    assert spec is not None and spec.origin is not None, f"no {recovery.RUNTIME_MODULE} module"
    source = Path(spec.origin).read_text()
    assert f"{recovery.RUNTIME_EDITION} = " in source, (
        f"langgraph-api {api}: {recovery.RUNTIME_MODULE} no longer names its edition in "
        f"{recovery.RUNTIME_EDITION}; agent/server/recovery.py would never run"
    )
    assert Path(database.OPS_FILENAME) == recovery.INDEX_FILE, (
        f"langgraph-runtime-inmem {runtime} keeps its index in {database.OPS_FILENAME}; "
        "agent/server/recovery.py reads the flush time of the wrong file (it then scans every "
        "thread)"
    )


@pytest.fixture
async def memory_store(backend: str) -> AsyncIterator[AsyncSqliteStore | AsyncPostgresStore]:
    """The memory store ``langgraph.json`` declares, on the backend under test."""
    async with memory_store_of_the_server() as opened:
        yield opened


async def test_the_ordered_write_still_fits_the_stores_table(
    memory_store: AsyncSqliteStore | AsyncPostgresStore,
) -> None:
    missing = await order.missing_internals(memory_store)
    assert not missing, (
        f"{versions(order.STORE_PACKAGES)}: the memory store lacks {missing}; "
        "agent/memory/order.py's SQL no longer fits, and facts fall back to a read, then a write"
    )


async def test_a_store_the_sql_does_not_fit_orders_facts_the_generic_way_with_a_warning(
    memory_store: AsyncSqliteStore | AsyncPostgresStore,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    moved = {"store": (*order.STORE_COLUMNS["store"], "a_column_a_release_renamed")}
    monkeypatch.setattr(order, "STORE_COLUMNS", moved)
    where = ("u1", "memories")
    newer = {"topic": "location", "text": "Logroño", "thread_id": "t", "position": 4}
    older = {"topic": "location", "text": "Besançon", "thread_id": "t", "position": 0}
    with caplog.at_level(logging.WARNING):
        assert await order.put_unless_said_later(memory_store, where, "location", newer)
        assert not await order.put_unless_said_later(memory_store, where, "location", older)
    stored = await memory_store.aget(where, "location")
    assert stored is not None and stored.value["text"] == "Logroño"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("a_column_a_release_renamed" in text for text in warnings), warnings
