"""Indexes, at start, the conversations the search index lacks: those older than the index.

The chores index a thread after each reply (``agent.chores``). A thread whose
last turn came before the index existed, or one imported (written without a
turn), has no rows until its next turn; at start-up the server indexes every
stored thread that has none, in the background, one thread at a time, from
its latest state (the current branch), for the owner its checkpoints name.
A thread with rows is left to its chores, so after the first start this
costs one query. A thread imported, updated or copied while the server runs
is indexed as it is written (``agent.server.written_threads``), through
:func:`index_thread`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from langchain_core.runnables import RunnableConfig

from agent import LOCAL_USER
from agent.chores import search_entries
from agent.storage import search

logger = logging.getLogger(__name__)

OWNER_KEY = "langgraph_auth_user_id"
"""Checkpoint metadata that names whom a thread's turns were run for."""


def _graph_of(saver: Any) -> Any:
    from agent.graph import builder

    return builder.compile(checkpointer=saver)


async def index_thread(saver: Any, thread_id: str, owner: str, graph: Any | None = None) -> bool:
    """Make the index hold ``thread_id``'s current branch, for ``owner``; return whether it has any.

    A branch without messages (an update that cleared them) leaves no rows.

    Args:
        saver: The open saver (its database holds the index).
        thread_id: The thread to index.
        owner: Whose conversation it is (their searches find it).
        graph: The graph compiled with ``saver``, to read the thread's state;
            by default the chatbot's.
    """
    index = search.index_for(saver)
    if index is None:
        return False
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    state = await (graph or _graph_of(saver)).aget_state(config)
    if state.created_at is None:  # nothing stored yet (a thread created empty)
        return False
    entries = search_entries((state.values or {}).get("messages", []))
    await index.update(owner, thread_id, entries)
    return bool(entries)


async def backfill(saver: Any, graph: Any | None = None) -> int:
    """Index every stored thread without rows in the search index; return how many.

    Args:
        saver: The open saver (its database holds the index).
        graph: The graph compiled with ``saver``, to read each thread's state;
            by default the chatbot's.
    """
    index = search.index_for(saver)
    if index is None:
        return 0
    graph = graph or _graph_of(saver)
    threads = await saver.athreads()
    indexed = await index.indexed_threads()
    done = 0
    for thread_id, metadata in threads:
        if thread_id in indexed:
            continue
        owner = str(metadata.get(OWNER_KEY) or LOCAL_USER)
        if await index_thread(saver, thread_id, owner, graph):
            done += 1
        await asyncio.sleep(0)  # one thread at a time: requests go first
    if done:
        logger.info("Indexed %d older conversation(s) for search", done)
    return done


async def backfill_quietly(saver: Any) -> None:
    """Run :func:`backfill`, logging a failure instead of raising it (a start-up task)."""
    try:
        await backfill(saver)
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("Could not index older conversations for search; new turns still are")
