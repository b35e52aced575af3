"""Rebuilding a lost thread-index entry from the database."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from agent.server.recovery import (
    first_checkpoint_id_at,
    in_memory_runtime,
    index_written_at,
    recover_threads,
    thread_metadata,
)


def test_recovered_thread_keeps_graph_and_owner() -> None:
    metadata = {"graph_id": "chatbot", "langgraph_auth_user_id": "alice", "step": 3}
    assert thread_metadata(metadata) == {"graph_id": "chatbot", "owner": "alice"}
    assert thread_metadata({"langgraph_auth_user_id": ""}) == {}


def test_the_boundary_id_sorts_between_checkpoints_made_before_and_after() -> None:
    import time

    from langgraph.checkpoint.base.id import uuid6

    before = str(uuid6())
    time.sleep(0.01)
    boundary = first_checkpoint_id_at(time.time())
    time.sleep(0.01)
    after = str(uuid6())
    assert before < boundary < after


def test_recovery_runs_only_under_the_in_memory_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        sys.modules, "langgraph_runtime", SimpleNamespace(RUNTIME_EDITION="postgres")
    )
    assert not in_memory_runtime()
    assert asyncio.run(recover_threads()) == 0
    monkeypatch.setitem(sys.modules, "langgraph_runtime", SimpleNamespace(RUNTIME_EDITION="inmem"))
    assert in_memory_runtime()
    monkeypatch.delitem(sys.modules, "langgraph_runtime")
    assert not in_memory_runtime(), "a script or test is no server"


def test_a_missing_index_file_means_every_thread_is_a_candidate(tmp_path: Path) -> None:
    assert index_written_at(tmp_path / "nothing.pckl") is None
    (tmp_path / "index.pckl").write_bytes(b"")
    assert index_written_at(tmp_path / "index.pckl") is not None
