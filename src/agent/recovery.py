"""Re-register threads the database holds but the server's thread index lost.

Under ``langgraph dev`` the thread index (ids, metadata, status) lives in
pickle files flushed every 10 s, while every turn's messages are committed to
the checkpointer's database as the turn completes. A ``kill -9`` can therefore
lose the index entries of the last seconds' new threads although their
conversations are safe in the database. At start-up the server re-creates
those entries from the database, so the conversations reappear.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from langgraph_sdk import get_client

from agent.checkpointer import checkpointer

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 60.0


def thread_metadata(checkpoint_metadata: dict[str, Any]) -> dict[str, Any]:
    """Rebuild a thread's index metadata from its latest checkpoint's metadata."""
    metadata: dict[str, Any] = {}
    if graph_id := checkpoint_metadata.get("graph_id"):
        metadata["graph_id"] = graph_id
    if owner := checkpoint_metadata.get("langgraph_auth_user_id"):
        metadata["owner"] = owner
    return metadata


async def recover_threads() -> int:
    """Create index entries for stored threads the server does not know; return how many.

    Talks to this server in-process (the SDK's ASGI transport, no network, no
    auth), waiting until its API answers. Failures are logged, never raised:
    recovery must not stop a server that can otherwise serve.
    """
    try:
        return await _recover_threads()
    except Exception:
        logger.exception("Could not recover threads from the database")
        return 0


async def _recover_threads() -> int:
    async with checkpointer() as saver:
        stored: list[tuple[str, dict[str, Any]]] = await saver.athreads()  # type: ignore[attr-defined]
    if not stored:
        return 0
    client = get_client()
    deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
    while True:
        try:
            await client.threads.search(limit=1)
            break
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)
    recovered = 0
    for thread_id, checkpoint_metadata in stored:
        try:
            await client.threads.get(thread_id)
            continue
        except Exception as error:  # noqa: BLE001 - anything but 404 is re-raised below
            if getattr(getattr(error, "response", None), "status_code", None) != 404:
                raise
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
