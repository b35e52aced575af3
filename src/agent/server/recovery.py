"""Re-register threads the database holds but the server's thread index lost.

Under ``langgraph dev`` (the in-memory runtime) the thread index (ids,
metadata, status) lives in pickle files flushed every 10 s, while every
turn's messages are committed to the checkpointer's database as the turn
completes. A ``kill -9`` can therefore lose the index entries of the last
seconds' new threads although their conversations are safe in the database.
At start-up the server re-creates those entries from the database, so the
conversations reappear, and finishes any turn the crash cut off after its
user message was saved.

It costs what can have been lost, not every thread: one query asks the
database for the threads written since the index file's last flush (less
:data:`FLUSH_MARGIN_S`), one search asks the index which of those it knows,
and only those threads are read further. The production runtime keeps its
index in PostgreSQL, so recovery runs only under the in-memory one.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from pathlib import Path
from typing import Any

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent import GRAPH_ID
from agent.storage.checkpointer import checkpointer

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 60.0


RUNTIME_MODULE = "langgraph_runtime"
RUNTIME_EDITION = "RUNTIME_EDITION"
"""``langgraph_runtime``'s attribute naming the runtime it loaded, from the environment
variable ``LANGGRAPH_RUNTIME_EDITION`` that ``langgraph dev`` sets to ``inmem`` and the
production image to its own."""

IN_MEMORY_RUNTIME = "inmem"

INDEX_FILE = Path(".langgraph_api") / ".langgraph_ops.pckl"
"""The in-memory runtime's thread index, relative to the server's working directory."""

FLUSH_MARGIN_S = 30.0
"""How far before the index file's last write recovery looks (flush lag, clock steps)."""

SEARCH_BATCH = 1000
"""Thread ids per ``threads.search`` call."""

UUID_EPOCH_OFFSET = 0x01B21DD213814000
"""100-ns intervals between the UUID epoch (1582-10-15) and the Unix epoch."""


def thread_metadata(checkpoint_metadata: dict[str, Any]) -> dict[str, Any]:
    """Rebuild a thread's index metadata from its latest checkpoint's metadata."""
    metadata: dict[str, Any] = {}
    if graph_id := checkpoint_metadata.get("graph_id"):
        metadata["graph_id"] = graph_id
    if owner := checkpoint_metadata.get("langgraph_auth_user_id"):
        metadata["owner"] = owner
    return metadata


def in_memory_runtime() -> bool:
    """Tell whether this server runs LangGraph's in-memory runtime (``langgraph dev``).

    The server has imported ``langgraph_runtime`` by then, which resolved the
    edition from :data:`RUNTIME_EDITION`; scripts and tests have not.
    """
    runtime = sys.modules.get(RUNTIME_MODULE)
    return getattr(runtime, RUNTIME_EDITION, None) == IN_MEMORY_RUNTIME


def index_written_at(index_file: Path = INDEX_FILE) -> float | None:
    """Return when the thread index was last flushed (Unix time), None if there is none."""
    try:
        return index_file.stat().st_mtime
    except OSError:
        return None


def first_checkpoint_id_at(unix_time: float) -> str:
    """Return the smallest LangGraph checkpoint id (a UUIDv6) that can be made at ``unix_time``.

    Checkpoint ids sort in creation order, so the checkpoints written since
    then are those whose id is at least this one.
    """
    timestamp = int(unix_time * 10_000_000) + UUID_EPOCH_OFFSET
    high_and_mid = (timestamp >> 12) & 0xFFFFFFFFFFFF
    low = timestamp & 0x0FFF
    version = 6 << 76
    variant = 0x8000 << 48  # RFC 4122; the clock sequence and node stay 0, the smallest
    return str(uuid.UUID(int=(high_and_mid << 80) | version | (low << 64) | variant))


INDEX_WRITTEN_AT_START = index_written_at()
"""Read as the server loads this module, before the runtime flushes its index again."""


async def recover_threads() -> int:
    """Re-index lost threads and finish turns a crash cut off; return threads re-indexed.

    Does nothing unless the in-memory runtime serves. Talks to this server
    in-process (the SDK's ASGI transport, no network, no auth), waiting until
    its API answers. Failures are logged, never raised: recovery must not
    stop a server that can otherwise serve.
    """
    if not in_memory_runtime():
        return 0
    written_at = INDEX_WRITTEN_AT_START
    since = None if written_at is None else first_checkpoint_id_at(written_at - FLUSH_MARGIN_S)
    try:
        async with checkpointer() as saver:
            stored = await saver.athreads(since=since)
        if not stored:
            return 0
        client = get_client()
        await _wait_until_serving(client)
        recovered = await _reindex(client, stored)
        await _finish_interrupted_turns(client, stored)
        return recovered
    except Exception:
        logger.exception("Could not recover threads from the database")
        return 0


def _status(error: Exception) -> int | None:
    status = getattr(getattr(error, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


async def _wait_until_serving(client: LangGraphClient) -> None:
    deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
    while True:
        try:
            await client.threads.search(limit=1)
            return
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def _indexed(client: LangGraphClient, thread_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Return the index's metadata of those of ``thread_ids`` it knows."""
    known: dict[str, dict[str, Any]] = {}
    for start in range(0, len(thread_ids), SEARCH_BATCH):
        batch = thread_ids[start : start + SEARCH_BATCH]
        for thread in await client.threads.search(ids=batch, limit=len(batch)):
            known[str(thread["thread_id"])] = dict(thread["metadata"] or {})
    return known


async def _reindex(client: LangGraphClient, stored: list[tuple[str, dict[str, Any]]]) -> int:
    """Create index entries for stored threads the server does not know; complete stale ones.

    An entry flushed before the thread's first run lacks the graph id (and
    owner) its runs added, so clients that list threads by graph id
    (agent-chat-ui, the chat page) would not show it: those keys are put back.
    """
    known = await _indexed(client, [thread_id for thread_id, _ in stored])
    recovered = 0
    for thread_id, checkpoint_metadata in stored:
        expected = thread_metadata(checkpoint_metadata)
        if thread_id in known:
            missing = {k: v for k, v in expected.items() if k not in known[thread_id]}
            if missing:
                await client.threads.update(thread_id, metadata=missing)
            continue
        await client.threads.create(thread_id=thread_id, metadata=expected, if_exists="do_nothing")
        recovered += 1
    if recovered:
        logger.warning(
            "Recovered %d conversation(s) from the database that the thread index had lost "
            "(the server was stopped without flushing it)",
            recovered,
        )
    return recovered


async def _finish_interrupted_turns(
    client: LangGraphClient, stored: list[tuple[str, dict[str, Any]]]
) -> None:
    """Resume threads whose last turn stopped midway, so none is left half done.

    A crash during a run can leave the user's message saved without its reply
    (the state still has a next step). Running the thread again with no input
    resumes from that checkpoint; a thread already busy (409) is left alone, and so is one
    whose reply the user stopped (status "interrupted").
    """
    resumed = 0
    for thread_id, checkpoint_metadata in stored:
        state = await client.threads.get_state(thread_id)
        if not state["next"]:
            continue
        if (await client.threads.get(thread_id))["status"] == "interrupted":
            continue  # the user stopped that reply (runs.cancel): it stays stopped
        try:
            await client.runs.create(
                thread_id,
                checkpoint_metadata.get("graph_id") or GRAPH_ID,
                input=None,
                multitask_strategy="reject",
            )
            resumed += 1
        except Exception as error:
            if _status(error) != 409:
                raise
    if resumed:
        logger.warning("Resumed %d conversation turn(s) that a crash had cut off", resumed)
