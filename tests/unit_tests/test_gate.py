"""Replies first: background model calls wait for replies, give way to them, and still finish."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from agent.models.gate import MAX_PREEMPTIONS, ModelGate, Patience, gate


async def ready_tasks_step() -> None:
    """Let every task that is ready take its next step (no time passes)."""
    loop = asyncio.get_running_loop()
    stepped: asyncio.Future[None] = loop.create_future()
    loop.call_soon(stepped.set_result, None)
    await stepped


STEPS_TO_BEGIN = 4
"""Loop steps a woken background call needs to begin: wake, start its task, run it (and one more)."""


async def test_a_background_call_waits_while_a_reply_is_written() -> None:
    gate = ModelGate()
    order: list[str] = []

    async def background() -> str:
        order.append("background")
        return "done"

    async with gate.replying():
        pending = asyncio.ensure_future(gate.background(background))
        for _ in range(STEPS_TO_BEGIN):
            await ready_tasks_step()
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
            await ready_tasks_step()
        async with gate.replying():
            await ready_tasks_step()
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
            await ready_tasks_step()
        async with gate.replying():
            await ready_tasks_step()
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
        await ready_tasks_step()
    async with gate.replying():
        await ready_tasks_step()
    release.set()
    assert await pending is None, "cut by a reply: given up, not sent again"
    assert started == [1]
    assert await gate.unless_cut(read_ahead) == "read"  # uncut, it runs to its end


async def test_no_background_call_begins_while_a_reply_is_ready_to_go() -> None:
    gate = ModelGate()
    now = {"replying": False}
    began_during_a_reply: list[bool] = []

    async def call() -> str:
        began_during_a_reply.append(now["replying"])
        return "done"

    async with gate.replying():
        pending = asyncio.ensure_future(gate.background(call))
        await ready_tasks_step()  # the call waits for this reply to end
    # This reply has ended and woken the waiting call; the next reply comes before it runs.
    async with gate.replying():
        now["replying"] = True
        for _ in range(STEPS_TO_BEGIN):
            await ready_tasks_step()
        now["replying"] = False
    assert await pending == "done"
    assert began_during_a_reply == [False], "the woken call waited for the second reply too"


@pytest.fixture
def run_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop in a thread of its own, as a run has with ``BG_JOB_ISOLATED_LOOPS``."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


async def test_a_reply_on_a_runs_own_loop_cuts_a_call_on_the_main_loop(
    run_loop: asyncio.AbstractEventLoop,
) -> None:
    main_loop = asyncio.get_running_loop()
    attempts: list[str] = []
    release = asyncio.Event()

    async def summarize() -> str:
        attempts.append("began")
        try:
            await release.wait()
        except asyncio.CancelledError:
            attempts.append("cut")
            raise
        return "summary"

    entered: asyncio.Future[None] = main_loop.create_future()
    may_end: asyncio.Future[None] = run_loop.create_future()

    async def reply() -> None:
        async with gate(exclusive=True).replying():
            main_loop.call_soon_threadsafe(entered.set_result, None)
            await may_end

    pending = asyncio.ensure_future(gate(exclusive=True).background(summarize))
    try:
        while not attempts:
            await ready_tasks_step()
        replied = asyncio.wrap_future(asyncio.run_coroutine_threadsafe(reply(), run_loop))
        await entered  # the reply holds the model on its own loop
        for _ in range(STEPS_TO_BEGIN):
            await ready_tasks_step()
        assert attempts == ["began", "cut"], "one gate: the reply cut the call, which waits"
        run_loop.call_soon_threadsafe(may_end.set_result, None)
        await replied
        release.set()
        assert await pending == "summary"
        assert attempts == ["began", "cut", "began"], "sent again once the reply ended"
    finally:
        release.set()
        if not may_end.done():
            run_loop.call_soon_threadsafe(may_end.set_result, None)
        pending.cancel()
