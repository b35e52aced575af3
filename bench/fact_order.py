"""Facts in the order the user stated them, with two replicas learning from one thread.

The user of one thread moves again and again ("J'habite maintenant à
Ville0007."): a single-valued fact, one store key, each statement newer than
the last. Two replicas (each its own event loop, in a thread of its own, and
its own PostgreSQL connection pool: what two server workers are to the
store) do the thread's housekeeping (``agent.memory.learning.learn``, the
chore itself, with a scripted extraction): turn ``i - 1``'s chore on one, turn
``i``'s on the other. In half the rounds (drawn at random, seeded) the older
chore's model answer is held until the newer chore has finished, so the older
one finishes last; in the others both run at once. After each round the
stored home must be the newest statement. The figure is how many rounds end
that way.

    .venv/bin/python -m bench.fact_order                  # 200 statements
    .venv/bin/python -m bench.fact_order --statements 400 --seed 7
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage
from langgraph.store.base import BaseStore

from agent.memory import extraction, keeper, learning
from agent.memory.facts import Fact, namespace
from agent.memory.store import _postgres
from agent.memory.thread_store import thread_store
from agent.testing.postgres import fresh_database

STATEMENTS = 200
"""Statements of a move the user makes, one a turn (the figure's count)."""

HELD_SHARE = 0.5
"""Share of rounds whose older chore is held until the newer one finished."""

USER, THREAD = "fact-order-user", "fact-order-thread"

START = datetime(2026, 12, 6, tzinfo=UTC)
"""When the first turn ran (each chore is given its turn's time, as the graph gives it)."""

_PLACE = re.compile(r"Ville\d{4}")

T = TypeVar("T")


def place(number: int) -> str:
    """Return where the user says they live in statement ``number``."""
    return f"Ville{number:04d}"


def statement(number: int) -> str:
    """Return the user's ``number``-th statement of where they live now."""
    return f"J'habite maintenant à {place(number)}."


def branch(upto: int) -> list[AnyMessage]:
    """Return the thread as turn ``upto`` leaves it: every statement up to it, each answered."""
    messages: list[AnyMessage] = []
    for number in range(upto + 1):
        messages += [
            HumanMessage(statement(number), id=f"h{number}"),
            AIMessage("Noté.", id=f"a{number}"),
        ]
    return messages


async def _cancel_the_rest() -> None:
    """Cancel the tasks left on this loop (the store's batching task) and let them end."""
    rest = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)


class Replica:
    """One worker: an event loop in a thread of its own, with its own store connection pool."""

    def __init__(self, uri: str) -> None:
        """Start the loop and open a store on ``uri`` in it."""
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._opened: AbstractAsyncContextManager[BaseStore] = _postgres("POSTGRES_URI", uri)
        self.store: BaseStore = self.call(self._opened.__aenter__()).result()

    def call(self, work: Coroutine[Any, Any, T]) -> Future[T]:
        """Run ``work`` on this replica's loop."""
        return asyncio.run_coroutine_threadsafe(work, self.loop)

    def close(self) -> None:
        """Close the store and stop the loop."""
        self.call(self._opened.__aexit__(None, None, None)).result()
        self.call(_cancel_the_rest()).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@dataclass
class Extraction:
    """A scripted extraction: ``location: <the place said>``; one message's answer may be held."""

    held: str = ""
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def __call__(self, prompt: list[BaseMessage]) -> str:
        """Answer the extraction prompt ``prompt``: the place its message names."""
        said = str(prompt[-1].content).removeprefix(extraction.MESSAGE_PREFIX)
        if said == self.held:
            self.reached.set()
            await asyncio.to_thread(self.release.wait)
        found = _PLACE.search(said)
        return f"location: {found.group()}" if found else "none"


def turn_time(number: int) -> str:
    """Return when turn ``number`` ran (a second apart: one thread's turns are seconds apart)."""
    return (START + timedelta(seconds=number)).isoformat(timespec="microseconds")


async def _chore(replica: Replica, upto: int, ask: Extraction) -> None:
    """Turn ``upto``'s housekeeping on ``replica`` (from another loop)."""
    work = learning.learn(replica.store, USER, THREAD, branch(upto), ask, turn_time(upto))
    await asyncio.wrap_future(replica.call(work))


async def _stored_home(replica: Replica) -> str:
    async def read() -> str:
        item = await replica.store.aget(namespace(USER), "location")
        return str(item.value.get("text")) if item is not None else ""

    return await asyncio.wrap_future(replica.call(read()))


async def _round(replicas: tuple[Replica, Replica], first: int, older_last: bool) -> bool:
    """Run turns ``first`` and ``first + 1``'s chores on two replicas; tell if the newest won."""
    old_one, new_one = replicas if first % 4 else replicas[::-1]
    held = Extraction(held=statement(first) if older_last else "")
    older = asyncio.ensure_future(_chore(old_one, first, held))
    if older_last:
        await asyncio.to_thread(held.reached.wait)
    await _chore(new_one, first + 1, Extraction())
    held.release.set()
    await older
    return await _stored_home(new_one) == place(first + 1)


async def _save(replica: Replica, number: int, ordered: bool) -> None:
    """Save statement ``number``'s fact as a chore does (``ordered``), or as fc2a95f did."""
    said = Fact("location", place(number))
    fact = said.with_source(THREAD, f"h{number}", 2 * number, turn_time(number))
    where = thread_store(replica.store, USER, THREAD) if ordered else replica.store
    await asyncio.wrap_future(replica.call(keeper.save(where, USER, [fact])))


async def _write_round(replicas: tuple[Replica, Replica], first: int, ordered: bool) -> bool:
    """Two statements' saves on two replicas, the older landing last; tell whether in order."""
    await _save(replicas[1], first + 1, ordered)
    await _save(replicas[0], first, ordered)
    return await _stored_home(replicas[0]) == place(first + 1)


async def measure(uri: str, statements: int, seed: int = 0) -> dict[str, int]:
    """Learn ``statements`` statements on two replicas of ``uri``, two a round; count rounds in order.

    Also the saves alone, the older of two landing last: through a chore's
    store (``ordered``) and as plain writes, as fc2a95f saved facts (``plain``).
    """
    draw = random.Random(seed)
    replicas = (Replica(uri), Replica(uri))
    counts = dict.fromkeys(
        ("rounds", "in_order", "older_last", "older_last_in_order", "ordered", "plain"), 0
    )
    try:
        for first in range(0, statements - 1, 2):
            older_last = draw.random() < HELD_SHARE
            in_order = await _round(replicas, first, older_last)
            counts["rounds"] += 1
            counts["in_order"] += in_order
            counts["older_last"] += older_last
            counts["older_last_in_order"] += older_last and in_order
        await asyncio.wrap_future(
            replicas[0].call(replicas[0].store.adelete(namespace(USER), "location"))
        )
        for first in range(statements, 2 * statements - 1, 2):
            counts["ordered"] += await _write_round(replicas, first, ordered=True)
        await asyncio.wrap_future(
            replicas[0].call(replicas[0].store.adelete(namespace(USER), "location"))
        )
        for first in range(2 * statements, 3 * statements - 1, 2):
            counts["plain"] += await _write_round(replicas, first, ordered=False)
    finally:
        for replica in replicas:
            replica.close()
    return counts


def main() -> None:
    """Print the figure: rounds whose stored fact is the newest statement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=STATEMENTS)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    with fresh_database("chatbot_bench") as uri:
        counts = asyncio.run(measure(uri, options.statements, options.seed))
    rounds = counts["rounds"]
    print(f"{2 * rounds} statements of a move, one thread, two replicas (PostgreSQL), two a round:")
    print(
        f"  chores (learn): newest stored after {counts['in_order']}/{rounds} rounds, "
        f"{counts['older_last_in_order']}/{counts['older_last']} where the older finished last"
    )
    print(
        f"  saves alone, the older landing last: {counts['ordered']}/{rounds} in order through "
        f"a chore's store; {counts['plain']}/{rounds} with plain writes (as fc2a95f saved)"
    )


if __name__ == "__main__":
    main()
