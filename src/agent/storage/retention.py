"""Which checkpoints of a thread to keep: every one of its last N turns, and what reading them needs.

Time travel, edit and regenerate (agent-chat-ui, Studio, the SDK) start runs
from a thread's earlier checkpoints: before each human message (the turn's
``input`` checkpoint) and before each AI reply. So every checkpoint of the
last N turns is kept, N being ``CHATBOT_HISTORY_TURNS``, and older ones go.
The transcript is stored as deltas (``DeltaChannel``): reading a checkpoint
replays its ancestors' writes back to the nearest full copy of the
transcript (a snapshot). So before the older checkpoints go, each kept
checkpoint whose parent goes is given a full copy of its own (LangGraph's
advice for a ``DeltaChannel``-aware prune), and one copy of the transcript
is all the window costs beyond its own turns.

The decision is a pure function of the thread's lineage, so both savers
share it and it is tested without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PRUNE_SLACK = 10
"""Turns stored beyond the window before pruning runs: it runs once every 10 turns."""


@dataclass(frozen=True)
class Lineage:
    """What retention needs to know of one checkpoint of a thread's root namespace.

    Attributes:
        checkpoint_id: The checkpoint's id (ids sort in creation order).
        parent_id: The id of the checkpoint it follows, if any.
        source: ``input`` for the checkpoint a run's input starts from, else
            ``loop``, ``update`` or ``fork``.
        snapshot: Whether it holds a full copy of every delta channel (no
            writes since the last copy: its metadata counts none), so reading
            it needs none of its ancestors.
    """

    checkpoint_id: str
    parent_id: str | None
    source: str | None
    snapshot: bool


@dataclass(frozen=True)
class Plan:
    """What pruning a thread does.

    Attributes:
        keep: The ids of the checkpoints that stay.
        snapshot: Kept checkpoints whose parent goes and which hold no full
            copy of the transcript yet: copy it into them before deleting.
    """

    keep: set[str]
    snapshot: list[str]


def plan(lineage: Sequence[Lineage], turns: int, slack: int = PRUNE_SLACK) -> Plan | None:
    """Return how to prune so that the last ``turns`` turns stay whole, or None to keep all.

    None also when fewer than ``turns + slack`` turns are stored, so pruning
    runs in batches rather than at every turn.
    """
    inputs = sorted((row.checkpoint_id for row in lineage if row.source == "input"), reverse=True)
    if len(inputs) < turns + slack:
        return None
    oldest_kept_turn = inputs[turns - 1]
    keep = {row.checkpoint_id for row in lineage if row.checkpoint_id >= oldest_kept_turn}
    snapshot = sorted(
        row.checkpoint_id
        for row in lineage
        if row.checkpoint_id in keep
        and row.parent_id is not None
        and row.parent_id not in keep
        and not row.snapshot
    )
    return Plan(keep, snapshot)
