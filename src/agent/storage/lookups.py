"""Lookups the server's own checks make through the saver it holds open.

A module of its own, imported the usual way: ``langgraph.json`` loads the
checkpointer module by its file path, as a second copy, so the registry of
open savers lives here, where both copies and the server's middleware
(``agent.server.validation``) see the same one.
"""

from __future__ import annotations

from langchain_core.runnables import RunnableConfig

from agent.storage.postgres import PostgresSaver
from agent.storage.sqlite import SqliteSaver

open_savers: list[SqliteSaver | PostgresSaver] = []
"""Savers opened by :func:`agent.storage.checkpointer.checkpointer` and not yet closed."""


def open_saver() -> SqliteSaver | PostgresSaver | None:
    """Return the saver the server opened first and still holds, if any (for its own checks)."""
    return open_savers[0] if open_savers else None


async def has_checkpoint(thread_id: str, checkpoint_id: str) -> bool | None:
    """Tell whether the thread still has that checkpoint (None: no saver is open here)."""
    saver = open_saver()
    if saver is None:
        return None
    config: RunnableConfig = {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": "",
            "checkpoint_id": checkpoint_id,
        }
    }
    return await saver.aget_tuple(config) is not None


async def kept_turns(thread_id: str) -> tuple[int, str | None]:
    """Return how many turns of the thread keep their checkpoints, and the oldest turn's id."""
    saver = open_saver()
    if saver is None:
        return 0, None
    inputs = sorted(
        row.checkpoint_id for row in await saver.alineage(thread_id) if row.source == "input"
    )
    return len(inputs), inputs[0] if inputs else None
