"""Indexes, at start, the conversations the search index lacks: those older than the index.

The chores index a thread after each reply (``agent.chores``). A thread whose
last turn came before the index existed, or one imported (written without a
turn), has no rows until its next turn; at start-up the server indexes every
stored thread that has none, in the background, one thread at a time, from
its latest state (the current branch), for the owner its checkpoints name.
A thread with rows is left to its chores, so after the first start this
costs one query.
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
    if graph is None:
        from agent.graph import builder

        graph = builder.compile(checkpointer=saver)
    threads = await saver.athreads()
    indexed = await index.indexed_threads()
    done = 0
    for thread_id, metadata in threads:
        if thread_id in indexed:
            continue
        config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
        state = await graph.aget_state(config)
        entries = search_entries((state.values or {}).get("messages", []))
        if entries:
            owner = str(metadata.get(OWNER_KEY) or LOCAL_USER)
            await index.update(owner, thread_id, entries)
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
