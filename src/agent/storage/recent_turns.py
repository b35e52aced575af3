"""What both savers share: keep each thread's last turns, prune older ones as a turn starts.

Each backend module (``agent.storage.sqlite``, ``agent.storage.postgres``)
says how to read a thread's lineage, delete checkpoints and store a full copy
of the transcript in its own tables; :mod:`agent.storage.retention` decides
what goes. Rebuilding a transcript uses ``DeltaChannel`` internals
(``_DeltaSnapshot``, ``from_checkpoint``, ``replay_writes``, the
``counters_since_delta_snapshot`` metadata): :func:`missing_delta_internals`
names whichever a release has moved, and a saver that meets one keeps every
checkpoint rather than prune (see :mod:`agent.storage.fences`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, get_args

from langchain_core.runnables import RunnableConfig
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)

from agent import settings
from agent.conversation.state import Transcript
from agent.storage.fences import missing_attributes, missing_columns, versions
from agent.storage.retention import Lineage, plan

try:
    from langgraph.checkpoint.serde.types import _DeltaSnapshot
except ImportError:  # reported by missing_delta_internals
    _DeltaSnapshot = None  # type: ignore[assignment,misc]

BATCH = 500
"""Checkpoint ids per DELETE statement."""

TRANSCRIPT = "messages"
"""The state channel that holds the transcript as deltas."""

TRANSCRIPT_CHANNEL: DeltaChannel[Any] = get_args(Transcript)[1]
"""Its channel, as the graph declares it (to replay its writes)."""

SNAPSHOT_COUNTERS = "counters_since_delta_snapshot"
"""The checkpoint metadata key in which LangGraph counts writes since a channel's full copy."""

DELTA_CHANNEL_METHODS = ("from_checkpoint", "replay_writes", "get")
SAVER_METHODS = ("aget_delta_channel_history",)

logger = logging.getLogger(__name__)


def missing_delta_internals() -> list[str]:
    """Return the ``DeltaChannel`` internals retention uses that this install lacks."""
    missing = (
        [] if _DeltaSnapshot is not None else ["langgraph.checkpoint.serde.types._DeltaSnapshot"]
    )
    missing += missing_attributes(TRANSCRIPT_CHANNEL, DELTA_CHANNEL_METHODS)
    missing += missing_attributes(BaseCheckpointSaver, SAVER_METHODS)
    return missing


class RecentTurnsSaver(BaseCheckpointSaver[Any]):
    """Keep every checkpoint of each thread's last turns; prune older ones when a turn starts.

    Subclasses say how to read a thread's lineage and delete checkpoints, and
    which of their dependency's internals they use (:meth:`missing_internals`).
    """

    pruning = True
    """False once :meth:`check_internals` found a moved internal: every checkpoint stays."""

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Save the checkpoint; when it starts a turn, prune turns beyond the window."""
        saved = await super().aput(config, checkpoint, metadata, new_versions)
        configurable = saved.get("configurable", {})
        turns = settings.HISTORY_TURNS.get()
        if (
            self.pruning
            and metadata.get("source") == "input"
            and not configurable.get("checkpoint_ns")
            and turns is not None
        ):
            await self.aprune_history(str(configurable["thread_id"]), turns)
        return saved

    saver_attributes: ClassVar[Sequence[str]] = ()
    """The members of the backend's saver that its SQL relies on (set by each backend)."""

    table_columns: ClassVar[Mapping[str, Sequence[str]]] = MappingProxyType({})
    """The columns of the backend's tables that its SQL relies on (set by each backend)."""

    async def missing_internals(self) -> list[str]:
        """Return the internals (tables, columns, private members) this saver lacks."""
        missing = missing_delta_internals() + missing_attributes(self, self.saver_attributes)
        if missing:
            return missing
        return missing_columns(await self.read_columns(), self.table_columns)

    async def read_columns(self) -> dict[str, set[str]]:
        """Return the columns the backend's tables have now, by table."""
        raise NotImplementedError

    async def check_internals(self) -> list[str]:
        """Turn pruning off, with a warning, if an internal it needs has moved; return those."""
        missing = await self.missing_internals()
        if missing:
            self.pruning = False
            logger.warning(
                "Conversation history is not pruned (every checkpoint is kept): this release "
                "(%s) moved what pruning relies on: %s. Pin the tested versions (pyproject.toml) "
                "or adapt agent/storage to it.",
                versions(),
                "; ".join(missing),
            )
        return missing

    async def aprune_history(self, thread_id: str, turns: int) -> None:
        """Delete the thread's checkpoints older than its last ``turns`` turns.

        A kept checkpoint whose parent goes first gets a full copy of the
        transcript, so it still reads whole. Pruning never fails a turn: a
        failure is logged as a warning that names the thread and what to do,
        and the checkpoints stay until the next try (ten turns later).
        """
        try:
            lineage = await self.alineage(thread_id)
            pruning = plan(lineage, turns)
            if pruning is None:
                return
            for checkpoint_id in pruning.snapshot:
                await self._snapshot(thread_id, checkpoint_id)
            doomed = [row.checkpoint_id for row in lineage if row.checkpoint_id not in pruning.keep]
            await self._forget([(thread_id, "", checkpoint_id) for checkpoint_id in doomed])
        except Exception as error:
            logger.warning(
                "Could not prune the history of thread %s (%s: %s): its older checkpoints stay "
                "(the thread's storage grows) and pruning retries in %s turns. If it keeps "
                "failing, set CHATBOT_HISTORY_TURNS=all to stop pruning and report this "
                "error with the installed versions (%s).",
                thread_id,
                type(error).__name__,
                error,
                settings.HISTORY_TURNS.get(),
                versions(),
                exc_info=True,
            )

    async def _snapshot(self, thread_id: str, checkpoint_id: str) -> None:
        """Store the full transcript in this checkpoint, so it reads without its ancestors."""
        config: RunnableConfig = {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": "",
                "checkpoint_id": checkpoint_id,
            }
        }
        saved = await self.aget_tuple(config)
        if saved is None or TRANSCRIPT not in saved.checkpoint["channel_versions"]:
            return
        if TRANSCRIPT in saved.checkpoint["channel_values"]:
            return  # it holds a copy already
        history = await self.aget_delta_channel_history(config=config, channels=[TRANSCRIPT])
        channel = TRANSCRIPT_CHANNEL.from_checkpoint(history[TRANSCRIPT].get("seed"))
        channel.replay_writes(history[TRANSCRIPT]["writes"])
        transcript = _DeltaSnapshot(channel.get())
        counters = dict(saved.metadata.get("counters_since_delta_snapshot") or {})
        counters.pop(TRANSCRIPT, None)
        await self._store_snapshot(saved, transcript, counters)

    async def _store_snapshot(
        self, saved: CheckpointTuple, transcript: Any, counters: dict[str, Any]
    ) -> None:
        """Write ``transcript`` (a ``_DeltaSnapshot``) into the saved checkpoint and its counters."""
        raise NotImplementedError

    async def alineage(self, thread_id: str) -> list[Lineage]:
        """Return the lineage of the thread's root-namespace checkpoints."""
        raise NotImplementedError

    async def _forget(self, checkpoints: Sequence[tuple[str, str, str]]) -> None:
        """Delete ``(thread_id, checkpoint_ns, checkpoint_id)`` checkpoints and their writes.

        A remaining checkpoint whose parent is deleted becomes a root.
        """
        raise NotImplementedError


def grouped(checkpoints: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str], list[str]]:
    """Group ``(thread_id, checkpoint_ns, checkpoint_id)`` by thread and namespace."""
    groups: dict[tuple[str, str], list[str]] = {}
    for thread_id, namespace, checkpoint_id in checkpoints:
        groups.setdefault((str(thread_id), str(namespace)), []).append(str(checkpoint_id))
    return groups


def batches(ids: list[str]) -> list[list[str]]:
    """Split ``ids`` into lists of at most :data:`BATCH`."""
    return [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]
