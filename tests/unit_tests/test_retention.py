"""How retention prunes a thread, decided from its lineage alone."""

from __future__ import annotations

from agent.storage.retention import Lineage, plan


def chain(turns: int, snapshot_every: int = 0, prefix: str = "0") -> list[Lineage]:
    """A linear thread: per turn an input checkpoint, one before the reply, one after it."""
    rows: list[Lineage] = []
    parent: str | None = None
    for turn in range(turns):
        for step, source in enumerate(("input", "loop", "loop")):
            checkpoint_id = f"{prefix}{turn:04d}-{step}"
            snapshot = (turn == 0 and step == 0) or (
                snapshot_every > 0 and turn % snapshot_every == 0 and step == 2
            )
            rows.append(Lineage(checkpoint_id, parent, source, snapshot))
            parent = checkpoint_id
    return rows


def test_nothing_is_pruned_until_window_and_slack_are_full() -> None:
    assert plan(chain(14), turns=5, slack=10) is None
    assert plan(chain(15), turns=5, slack=10) is not None


def test_the_window_stays_whole_and_its_oldest_turn_gets_a_full_copy() -> None:
    pruning = plan(chain(40), turns=5, slack=10)
    assert pruning is not None
    assert pruning.keep == {f"0{turn:04d}-{step}" for turn in range(35, 40) for step in range(3)}
    assert pruning.snapshot == ["00035-0"], "turn 35's input checkpoint loses its parent"


def test_a_kept_checkpoint_that_already_holds_a_copy_needs_no_new_one() -> None:
    rows = chain(40, snapshot_every=5)
    # Make turn 35's input checkpoint a snapshot itself.
    rows = [
        r if r.checkpoint_id != "00035-0" else Lineage(r.checkpoint_id, r.parent_id, r.source, True)
        for r in rows
    ]
    pruning = plan(rows, turns=5, slack=10)
    assert pruning is not None and pruning.snapshot == []


def test_a_branch_forked_inside_the_window_keeps_its_place() -> None:
    rows = chain(40)
    # An edit of turn 37 forked from its input checkpoint.
    branch = [Lineage("10000-0", "00037-0", "input", True)]
    pruning = plan(rows + branch, turns=5, slack=10)
    assert pruning is not None
    assert "10000-0" in pruning.keep and "00037-0" in pruning.keep
    assert pruning.snapshot == ["00036-0"]
