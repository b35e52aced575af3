"""Which checkpoints retention keeps, decided from a thread's lineage alone."""

from __future__ import annotations

from agent.storage.retention import Lineage, kept_checkpoints


def chain(turns: int, snapshot_every: int = 0) -> list[Lineage]:
    """A linear thread: per turn an input checkpoint, one before the reply, one after it."""
    rows: list[Lineage] = []
    parent: str | None = None
    for turn in range(turns):
        for step, source in enumerate(("input", "loop", "loop")):
            checkpoint_id = f"{turn:04d}-{step}"
            snapshot = (turn == 0 and step == 0) or (
                snapshot_every > 0 and turn % snapshot_every == 0 and step == 2
            )
            rows.append(Lineage(checkpoint_id, parent, source, snapshot))
            parent = checkpoint_id
    return rows


def test_nothing_is_pruned_until_window_and_slack_are_full() -> None:
    assert kept_checkpoints(chain(14), turns=5, slack=10) is None
    assert kept_checkpoints(chain(15), turns=5, slack=10) is not None


def test_the_window_is_kept_whole_back_to_the_nearest_snapshot() -> None:
    keep = kept_checkpoints(chain(40, snapshot_every=10), turns=5, slack=10)
    assert keep is not None
    assert {f"{turn:04d}-{step}" for turn in range(35, 40) for step in range(3)} <= keep
    # Turn 35's reading needs the writes back to the snapshot taken at the end of turn 30.
    assert min(keep) == "0030-2"


def test_without_any_snapshot_every_ancestor_is_needed() -> None:
    rows = chain(40)
    assert kept_checkpoints(rows, turns=5, slack=10) == {row.checkpoint_id for row in rows}


def test_a_branch_keeps_its_own_ancestors() -> None:
    rows = chain(30, snapshot_every=5)
    # An edit of turn 27 forked from its input checkpoint, then ran 20 more turns.
    fork_parent = "0027-0"
    branch = [Lineage("1000-0", fork_parent, "input", False)]
    branch += [Lineage(f"1{n:03d}-1", branch[-1].checkpoint_id, "loop", True) for n in range(1)]
    previous = branch[-1].checkpoint_id
    for turn in range(1, 21):
        row = Lineage(f"1{turn:03d}-0", previous, "input", False)
        branch.append(row)
        previous = row.checkpoint_id
    keep = kept_checkpoints(rows + branch, turns=5, slack=10)
    assert keep is not None
    assert all(row.checkpoint_id in keep for row in branch[-5:])
    assert "0000-0" not in keep
