"""Replies first: background model calls wait for replies, give way to them, and still finish."""

from __future__ import annotations

import asyncio

from agent.models.gate import MAX_PREEMPTIONS, ModelGate, Patience


async def test_a_background_call_waits_while_a_reply_is_written() -> None:
    gate = ModelGate()
    order: list[str] = []

    async def background() -> str:
        order.append("background")
        return "done"

    async with gate.replying():
        pending = asyncio.ensure_future(gate.background(background))
        await asyncio.sleep(0.05)
        order.append("reply")
    assert await pending == "done"
    assert order == ["reply", "background"]


async def test_a_reply_cuts_in_and_an_urgent_call_is_sent_again_then_let_finish() -> None:
    gate = ModelGate()
    started: list[int] = []
    release = asyncio.Event()

    async def slow() -> str:
        started.append(len(started) + 1)
        await release.wait()
        return f"answer of attempt {len(started)}"

    pending = asyncio.ensure_future(gate.background(slow, Patience()))
    for cut in range(MAX_PREEMPTIONS + 2):
        while len(started) < min(cut + 1, MAX_PREEMPTIONS + 1):
            await asyncio.sleep(0.01)
        async with gate.replying():
            await asyncio.sleep(0.01)
    release.set()
    # It gave way MAX_PREEMPTIONS times; the next attempt was let finish whatever came.
    assert await pending == f"answer of attempt {MAX_PREEMPTIONS + 1}"
    assert gate.preemptions == MAX_PREEMPTIONS


async def test_a_gate_for_parallel_endpoints_lets_everything_through() -> None:
    gate = ModelGate(exclusive=False)
    async with gate.replying():
        assert await gate.background(lambda: asyncio.sleep(0, "at once")) == "at once"


async def test_a_call_that_can_wait_gives_way_to_every_reply() -> None:
    gate = ModelGate()
    started: list[int] = []
    release = asyncio.Event()

    async def slow() -> int:
        started.append(len(started) + 1)
        await release.wait()
        return len(started)

    pending = asyncio.ensure_future(gate.background(slow))
    for cut in range(MAX_PREEMPTIONS + 3):
        while len(started) < cut + 1:
            await asyncio.sleep(0.01)
        async with gate.replying():
            await asyncio.sleep(0.01)
    release.set()
    assert await pending == MAX_PREEMPTIONS + 4, "cut by every reply, sent again after each"
    assert gate.preemptions == MAX_PREEMPTIONS + 3


async def test_work_only_worth_doing_before_the_next_message_gives_up_when_cut() -> None:
    gate = ModelGate()
    started: list[int] = []
    release = asyncio.Event()

    async def read_ahead() -> str:
        started.append(1)
        await release.wait()
        return "read"

    pending = asyncio.ensure_future(gate.unless_cut(read_ahead))
    while not started:
        await asyncio.sleep(0.01)
    async with gate.replying():
        await asyncio.sleep(0.01)
    release.set()
    assert await pending is None, "cut by a reply: given up, not sent again"
    assert started == [1]
    assert await gate.unless_cut(read_ahead) == "read"  # uncut, it runs to its end
