"""Let the LangGraph server read a transcript through the saver's own fast path.

The server wraps a custom checkpointer (``langgraph.json``'s ``checkpointer``)
in langgraph-api's ``_CustomCheckpointerAdapter``. The adapter forwards
``aget_tuple``, ``aput`` and the rest to our saver, but not
``aget_delta_channel_history``, so it inherits ``BaseCheckpointSaver``'s
generic one: a walk back through the thread, one ``aget_tuple`` (a query and
a decoded checkpoint with its writes) per checkpoint, to the nearest full copy
of the transcript. The SQLite and PostgreSQL savers answer the same question
in two queries. Every run starts with that read, so a long thread paid the
walk on every turn: with an instant model on SQLite, server time per turn at
turn 1,000 was 690 ms in ``make bench-storage`` before this forwarding and
335 ms with it (ten queued turns, measured while llama.cpp compiled beside).

:func:`forward_delta_history` gives the adapter the forwarding method, unless
langgraph-api already defines one of its own (a release that fixes this).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import DeltaChannelHistory

logger = logging.getLogger(__name__)

METHOD = "aget_delta_channel_history"


async def _forwarded(
    self: Any, *, config: RunnableConfig, channels: Sequence[str]
) -> Mapping[str, DeltaChannelHistory]:
    """Ask the wrapped saver, whose override reads the history in two queries."""
    history: Mapping[str, DeltaChannelHistory] = await self._inner.aget_delta_channel_history(
        config=config, channels=channels
    )
    return history


def forward_delta_history() -> bool:
    """Make langgraph-api's checkpointer adapter forward the transcript's history read.

    Returns:
        True when this installed the forwarding; False when the adapter
        forwards it already (its own method, or an earlier call) or is not
        there to patch.
    """
    try:
        from langgraph_api._checkpointer._adapter import (  # type: ignore[import-untyped]
            _CustomCheckpointerAdapter,
        )
    except ImportError:  # not served by langgraph-api (unit tests, scripts)
        return False
    if METHOD in vars(_CustomCheckpointerAdapter):
        return False
    setattr(_CustomCheckpointerAdapter, METHOD, _forwarded)
    logger.debug("langgraph-api's checkpointer adapter now forwards %s", METHOD)
    return True
