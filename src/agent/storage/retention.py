"""Which checkpoints of a thread to keep: every one of its last N turns, and what reading them needs.

Time travel, edit and regenerate (agent-chat-ui, Studio, the SDK) start runs
from a thread's earlier checkpoints: before each human message (the turn's
``input`` checkpoint) and before each AI reply. So every checkpoint of the
last N turns is kept, N being ``CHATBOT_HISTORY_TURNS``. Older ones may go,
except those a kept checkpoint still needs: the transcript is stored as
deltas (``DeltaChannel``), so reading a checkpoint replays its ancestors'
writes back to the nearest full copy of the transcript (a snapshot), and
those ancestors stay too.

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


def kept_checkpoints(
    lineage: Sequence[Lineage], turns: int, slack: int = PRUNE_SLACK
) -> set[str] | None:
    """Return the ids to keep so that the last ``turns`` turns stay whole, or None to keep all.

    None also when fewer than ``turns + slack`` turns are stored, so pruning
    runs in batches rather than at every turn.
    """
    inputs = sorted((row.checkpoint_id for row in lineage if row.source == "input"), reverse=True)
    if len(inputs) < turns + slack:
        return None
    oldest_kept_turn = inputs[turns - 1]
    by_id = {row.checkpoint_id: row for row in lineage}
    keep = {row.checkpoint_id for row in lineage if row.checkpoint_id >= oldest_kept_turn}
    for checkpoint_id in sorted(keep):
        row = by_id[checkpoint_id]
        while not row.snapshot and row.parent_id in by_id and row.parent_id not in keep:
            keep.add(row.parent_id)
            row = by_id[row.parent_id]
    return keep
