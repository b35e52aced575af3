"""Re-register threads the database holds but the server's thread index lost.

Under ``langgraph dev`` the thread index (ids, metadata, status) lives in
pickle files flushed every 10 s, while every turn's messages are committed to
the checkpointer's database as the turn completes. A ``kill -9`` can therefore
lose the index entries of the last seconds' new threads although their
conversations are safe in the database. At start-up the server re-creates
those entries from the database, so the conversations reappear, and finishes
any turn the crash cut off after its user message was saved.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent.storage.checkpointer import checkpointer

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 60.0

DEFAULT_GRAPH_ID = "chatbot"


def thread_metadata(checkpoint_metadata: dict[str, Any]) -> dict[str, Any]:
    """Rebuild a thread's index metadata from its latest checkpoint's metadata."""
    metadata: dict[str, Any] = {}
    if graph_id := checkpoint_metadata.get("graph_id"):
        metadata["graph_id"] = graph_id
    if owner := checkpoint_metadata.get("langgraph_auth_user_id"):
        metadata["owner"] = owner
    return metadata


async def recover_threads() -> int:
    """Re-index lost threads and finish turns a crash cut off; return threads re-indexed.

    Talks to this server in-process (the SDK's ASGI transport, no network, no
    auth), waiting until its API answers. Failures are logged, never raised:
    recovery must not stop a server that can otherwise serve.
    """
    try:
        async with checkpointer() as saver:
            stored = await saver.athreads()
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


async def _reindex(client: LangGraphClient, stored: list[tuple[str, dict[str, Any]]]) -> int:
    """Create index entries for stored threads the server does not know; complete stale ones.

    An entry flushed before the thread's first run lacks the graph id (and
    owner) its runs added, so clients that list threads by graph id
    (agent-chat-ui, the chat page) would not show it: those keys are put back.
    """
    recovered = 0
    for thread_id, checkpoint_metadata in stored:
        try:
            known = await client.threads.get(thread_id)
        except Exception as error:
            if _status(error) != 404:
                raise
        else:
            expected = thread_metadata(checkpoint_metadata)
            missing = {k: v for k, v in expected.items() if k not in (known["metadata"] or {})}
            if missing:
                await client.threads.update(thread_id, metadata=missing)
            continue
        await client.threads.create(
            thread_id=thread_id,
            metadata=thread_metadata(checkpoint_metadata),
            if_exists="do_nothing",
        )
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
                checkpoint_metadata.get("graph_id") or DEFAULT_GRAPH_ID,
                input=None,
                multitask_strategy="reject",
            )
            resumed += 1
        except Exception as error:
            if _status(error) != 409:
                raise
    if resumed:
        logger.warning("Resumed %d conversation turn(s) that a crash had cut off", resumed)
