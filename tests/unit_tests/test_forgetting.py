"""What a user deletes stays deleted, and facts follow the order the user said them (issue 26).

Each test holds a chore at one step with an ``asyncio.Event`` (a model call
that waits to be let go), does what the user or another worker does meanwhile,
then lets it go and checks what the store holds: no sleeps, no timing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    AnyMessage,
    BaseMessage,
    HumanMessage,
)
from langchain_core.outputs import ChatGenerationChunk
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

from agent.chores import Housework
from agent.conversation import summaries
from agent.conversation.context import Context
from agent.memory import extraction, keeper, learning
from agent.memory.facts import namespace
from agent.memory.order import put_unless_said_later
from agent.memory.store import _sqlite
from agent.server.thread_deletion import forget_thread
from agent.testing.fake_chat_model import RecordingChatModel
from agent.turn import Thread

HOME = "J'habite à Besançon depuis trois ans."
MOVED = "En fait, j'ai déménagé à Logroño le mois dernier."
ALLERGY = "Je m'appelle Hélène et je suis allergique aux arachides."
AGAIN = "Pour rappel, je suis allergique aux arachides."
ANSWERS = {
    HOME: "location: Besançon",
    MOVED: "location: Logroño",
    ALLERGY: "name: Hélène\nhealth: allergique aux arachides",
    AGAIN: "health: allergique aux arachides",
}


class HeldAsk:
    """An extraction ``ask`` that answers from :data:`ANSWERS`; the message ``held`` waits.

    ``reached`` is set when the held message is asked about; the answer comes
    once ``release`` is set.
    """

    def __init__(self, held: str = "") -> None:
        self.held = held
        self.reached = asyncio.Event()
        self.release = asyncio.Event()
        self.asked: list[str] = []

    async def __call__(self, prompt: list[BaseMessage]) -> str:
        said = str(prompt[-1].content).removeprefix(extraction.MESSAGE_PREFIX)
        self.asked.append(said)
        if said == self.held:
            self.reached.set()
            await self.release.wait()
        return ANSWERS.get(said, "none")


def thread_of(*texts: str, ids: Sequence[str] = ()) -> list[AnyMessage]:
    """A branch where the user said ``texts`` (ids h0, h1, ... unless given), each answered."""
    messages: list[AnyMessage] = []
    for number, text in enumerate(texts):
        message_id = ids[number] if number < len(ids) else f"h{number}"
        messages += [HumanMessage(text, id=message_id), AIMessage("…", id=f"a-{message_id}")]
    return messages


async def everything(store: BaseStore, user: str = "u1") -> list[tuple[tuple[str, ...], str, str]]:
    """Every item of ``user`` in the store: namespace, key and value as text."""
    found: list[tuple[tuple[str, ...], str, str]] = []
    for space in await store.alist_namespaces(prefix=(user,), limit=1000):
        for item in await store.asearch(space, limit=1000):
            text = json.dumps(item.value, ensure_ascii=False)
            found.append((tuple(item.namespace), item.key, text))
    return found


async def remembered(store: BaseStore, user: str = "u1") -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for fact in await keeper.recall(store, user):
        found.setdefault(fact.topic, []).append(fact.text)
    return found


async def nothing_names(store: BaseStore, thread_id: str, *texts: str) -> None:
    """Assert that no item of the user names ``thread_id`` or holds any of ``texts``."""
    for space, key, value in await everything(store):
        where = f"{space} {key}: {value}"
        assert thread_id not in (*space, key) and thread_id not in value, where
        assert not any(text in value for text in texts), where


# Finding 1: a deleted conversation comes back into memory.


async def test_a_thread_deleted_mid_extraction_leaves_nothing_behind() -> None:
    store = InMemoryStore()
    ask = HeldAsk(held=MOVED)
    await learning.learn(store, "u1", "kept", thread_of(HOME), ask)
    chore = asyncio.create_task(
        learning.learn(store, "u1", "doomed", thread_of(ALLERGY, MOVED), ask)
    )
    await ask.reached.wait()  # the first message's facts are saved, the second is being read
    assert (await remembered(store))["health"] == ["allergique aux arachides"]
    await forget_thread(store, "u1", "doomed")
    ask.release.set()
    await chore
    assert await remembered(store) == {"location": ["Besançon"]}
    await nothing_names(store, "doomed", "Hélène", "arachides", "Logroño")
    # Its next turn, queued before the deletion, finds nothing read and still writes nothing.
    await learning.learn(store, "u1", "doomed", thread_of(ALLERGY, MOVED), HeldAsk())
    await nothing_names(store, "doomed", "Hélène", "arachides", "Logroño")


class HeldSummarizer(RecordingChatModel):
    """A summarizer whose answer waits for ``release``; ``reached`` is set when it is asked."""

    reached: asyncio.Event
    release: asyncio.Event

    async def _astream(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        self.prompts.append(list(messages))
        self.reached.set()
        await self.release.wait()
        summary = "Hélène, allergique aux arachides, a parlé de Besançon."
        yield ChatGenerationChunk(message=AIMessageChunk(content=summary))


def ten_each(prompt: Sequence[BaseMessage]) -> int:
    return sum(10 for message in prompt if not message.type == "system")


async def test_a_thread_deleted_mid_fold_keeps_no_summary() -> None:
    store = InMemoryStore()
    messages = thread_of(ALLERGY, *(f"Remarque numéro {n}." for n in range(11)))
    model = HeldSummarizer(reached=asyncio.Event(), release=asyncio.Event())
    work = Housework(
        store,
        Thread("u1", "doomed", remembering=False),
        messages,
        Context(max_history_tokens=250),
        "French",
        model,
        count=ten_each,
    )
    fold = asyncio.create_task(work.fold())
    await model.reached.wait()
    await forget_thread(store, "u1", "doomed")
    model.release.set()
    await fold
    assert await store.asearch(summaries.namespace("u1", "doomed")) == []
    await nothing_names(store, "doomed", "Hélène", "arachides")


# Finding 2: forgetting does not forget.


async def test_forgetting_a_fact_leaves_no_copy_of_it_in_another() -> None:
    store = InMemoryStore()
    await learning.learn(store, "u1", "t1", thread_of(ALLERGY), HeldAsk())
    health = next(f for f in await keeper.recall(store, "u1") if f.topic == "health")
    await keeper.forget(store, "u1", health.store_key())
    assert await remembered(store) == {"name": ["Hélène"]}
    for space, key, value in await everything(store):
        assert "arachides" not in value, f"{space} {key} keeps the forgotten fact: {value}"


async def test_an_old_item_quoting_its_message_is_unquoted_when_a_sibling_is_forgotten() -> None:
    store = InMemoryStore()
    old = {"thread_id": "t0", "message_id": "m0", "said": ALLERGY, "updated_at": "2026-01-01"}
    await store.aput(namespace("u1"), "name", {"topic": "name", "text": "Hélène", **old})
    forgotten = {"topic": "health", "text": "allergique aux arachides", **old}
    await store.aput(namespace("u1"), "health:1", forgotten)
    await keeper.forget(store, "u1", "health:1")
    assert await remembered(store) == {"name": ["Hélène"]}
    assert not any("arachides" in value for *_where, value in await everything(store))


async def test_a_forgotten_fact_stays_forgotten_on_a_branch_left_and_opened_again() -> None:
    store = InMemoryStore()
    first = thread_of(ALLERGY, HOME)
    await learning.learn(store, "u1", "t1", first, HeldAsk())
    health = next(f for f in await keeper.recall(store, "u1") if f.topic == "health")
    await keeper.forget(store, "u1", health.store_key())
    # The user edits the first message (a fork before it: a new id), then goes back.
    edited = thread_of("Bonjour, comment vas-tu ?", ids=["h0-edited"])
    await learning.learn(store, "u1", "t1", edited, HeldAsk())
    assert await remembered(store) == {}, "the branch left takes its facts along"
    ask = HeldAsk()
    await learning.learn(store, "u1", "t1", first, ask)
    assert ask.asked == [], "messages read once are not read again on their branch"
    assert "health" not in await remembered(store)


async def test_an_edit_that_keeps_the_message_id_is_read_again() -> None:
    store = InMemoryStore()
    await learning.learn(store, "u1", "t1", thread_of("Bonjour !", HOME), HeldAsk())
    assert await remembered(store) == {"location": ["Besançon"]}
    await learning.learn(store, "u1", "t1", thread_of("Bonjour !", MOVED), HeldAsk())
    assert await remembered(store) == {"location": ["Logroño"]}
    await learning.learn(store, "u1", "t1", thread_of("Bonjour !", "Rien de neuf."), HeldAsk())
    assert await remembered(store) == {}, "the edited message's old fact goes with its old text"


async def test_a_fact_forgotten_while_an_older_message_is_read_does_not_come_back() -> None:
    store = InMemoryStore()
    await learning.learn(store, "u1", "t1", thread_of(ALLERGY), HeldAsk())
    ask = HeldAsk(held=AGAIN)
    chore = asyncio.create_task(learning.learn(store, "u2", "t2", thread_of(AGAIN), ask))
    other = asyncio.create_task(learning.learn(store, "u1", "t3", thread_of(AGAIN), ask))
    await ask.reached.wait()
    health = next(f for f in await keeper.recall(store, "u1") if f.topic == "health")
    await keeper.forget(store, "u1", health.store_key())  # after AGAIN was said, before it lands
    ask.release.set()
    await asyncio.gather(chore, other)
    assert await remembered(store) == {"name": ["Hélène"]}
    assert (await remembered(store, "u2"))["health"] == ["allergique aux arachides"]
    # Said again after the forgetting, it is learnt again: the user told it anew.
    await learning.learn(store, "u1", "t4", thread_of(AGAIN), HeldAsk())
    assert (await remembered(store))["health"] == ["allergique aux arachides"]


async def test_forget_everything_stops_a_chore_reading_an_older_message() -> None:
    store = InMemoryStore()
    await learning.learn(store, "u1", "t1", thread_of(HOME), HeldAsk())
    ask = HeldAsk(held=ALLERGY)
    chore = asyncio.create_task(learning.learn(store, "u1", "t2", thread_of(ALLERGY), ask))
    await ask.reached.wait()
    await keeper.forget(store, "u1")
    ask.release.set()
    await chore
    assert await remembered(store) == {}


# Finding 4: two chores on one thread race.


async def test_an_older_statement_finishing_last_does_not_replace_a_newer_one() -> None:
    store = InMemoryStore()
    said = [HOME, "Il fait beau.", "J'aime la pluie aussi.", MOVED]
    older, newer = HeldAsk(held=HOME), HeldAsk()
    # Two workers: one does the first turn's chore, one the fourth's (its last three messages).
    first = asyncio.create_task(learning.learn(store, "u1", "t1", thread_of(HOME), older))
    await older.reached.wait()
    await learning.learn(store, "u1", "t1", thread_of(*said), newer)
    assert await remembered(store) == {"location": ["Logroño"]}
    older.release.set()
    await first
    assert await remembered(store) == {"location": ["Logroño"]}, "the newer statement stays"
    # Neither worker's progress was lost: a later turn reads nothing again.
    again = HeldAsk()
    await learning.learn(store, "u1", "t1", thread_of(*said), again)
    assert again.asked == []


async def test_another_threads_older_statement_finishing_last_does_not_win() -> None:
    store = InMemoryStore()
    older = HeldAsk(held=HOME)
    first = asyncio.create_task(
        learning.learn(store, "u1", "t1", thread_of(HOME), older, said_at="2026-12-06T10:00:00")
    )
    await older.reached.wait()
    await learning.learn(
        store, "u1", "t2", thread_of(MOVED), HeldAsk(), said_at="2026-12-06T10:05:00"
    )
    older.release.set()
    await first
    assert await remembered(store) == {"location": ["Logroño"]}


async def ordered_writes(store: BaseStore) -> None:
    """Check that an older statement never replaces a newer one in ``store``, and the reverse does."""
    where = namespace("u1")
    turn = {"thread_id": "t", "said_at": "2026-12-06T10:05:00"}
    newer = {"topic": "location", "text": "Logroño", "position": 6, **turn}
    # Same thread: by position, whatever the turns' times.
    older = {"topic": "location", "text": "Besançon", "position": 0, **turn}
    older["said_at"] = "2026-12-06T10:09:00"
    elsewhere = {"topic": "location", "text": "Dole", "thread_id": "t2"}
    elsewhere["said_at"] = "2026-12-06T10:00:00"
    assert await put_unless_said_later(store, where, "location", newer)
    assert not await put_unless_said_later(store, where, "location", older)
    assert not await put_unless_said_later(store, where, "location", elsewhere)
    stored = await store.aget(where, "location")
    assert stored is not None and stored.value["text"] == "Logroño"
    later = {**elsewhere, "said_at": "2026-12-07T00:00:00"}
    assert await put_unless_said_later(store, where, "location", later)
    stored = await store.aget(where, "location")
    assert stored is not None and stored.value == later
    # Written by SQL, read back by the store's own search and filter as any item.
    found = await store.asearch(where, filter={"thread_id": "t2"})
    assert [item.value for item in found] == [later]


@pytest.mark.parametrize("backend", ["sqlite", "memory"])
async def test_the_ordered_write_is_one_statement_on_sqlite(backend: str, tmp_path: Path) -> None:
    """The SQL path writes an older statement over nothing and a newer one, never the reverse."""
    if backend == "memory":
        await ordered_writes(InMemoryStore())
        return
    async with _sqlite(tmp_path / "store.sqlite") as sqlite_store:
        await ordered_writes(sqlite_store)


async def test_an_older_turns_chore_keeps_what_a_newer_turn_learnt_beyond_its_branch() -> None:
    """The older chore's branch lacks the newer message: not left behind, just not reached yet."""
    store = InMemoryStore()
    said = [HOME, MOVED]
    newer_turn, older_turn = "2026-12-06T10:00:01", "2026-12-06T10:00:00"
    await learning.learn(store, "u1", "t1", thread_of(*said), HeldAsk(), said_at=newer_turn)
    await learning.learn(store, "u1", "t1", thread_of(HOME), HeldAsk(), said_at=older_turn)
    assert await remembered(store) == {"location": ["Logroño"]}
    # A turn after it on a branch without that message (an edit) does forget it.
    await learning.learn(
        store, "u1", "t1", thread_of(HOME, ids=["h0"]), HeldAsk(), said_at="2026-12-06T10:00:02"
    )
    assert await remembered(store) == {}


async def test_forgetting_the_last_fact_one_by_one_is_forgetting_everything() -> None:
    """The chat page's Forget everything deletes each fact: a chore in flight saves nothing."""
    store = InMemoryStore()
    await learning.learn(store, "u1", "t1", thread_of(HOME), HeldAsk())
    ask = HeldAsk(held=ALLERGY)
    chore = asyncio.create_task(learning.learn(store, "u1", "t2", thread_of(ALLERGY), ask))
    await ask.reached.wait()
    for fact in await keeper.recall(store, "u1"):
        await keeper.forget(store, "u1", fact.store_key())
    ask.release.set()
    await chore
    assert await remembered(store) == {}


async def test_a_chore_dates_its_facts_when_its_turn_began_not_when_it_runs() -> None:
    """Facts are ordered by when the user said them: a chore queued behind others keeps that."""
    from datetime import UTC, datetime

    from langgraph.checkpoint.memory import InMemorySaver

    from agent.graph import build_graph
    from agent.housekeeping import drained

    asked_to_reply: list[str] = []

    def answer(prompt: list[BaseMessage]) -> str:
        if extraction.MESSAGE_PREFIX in str(prompt[-1].content):
            return "location: Besançon"
        asked_to_reply.append(datetime.now(UTC).isoformat(timespec="microseconds"))
        return "Enchanté !"

    store = InMemoryStore()
    model = RecordingChatModel(reply=answer)
    graph = build_graph(lambda _context: model, count=ten_each).compile(
        checkpointer=InMemorySaver(), store=store
    )
    config = {"configurable": {"thread_id": "t1"}}
    await graph.ainvoke({"messages": [HumanMessage(HOME)]}, config)  # type: ignore[arg-type]
    await drained()
    [home] = [fact for fact in await keeper.recall(store, "local") if fact.topic == "location"]
    assert home.said_at and home.said_at < asked_to_reply[0], "dated before the reply was asked"


async def test_a_deleted_threads_queued_housework_asks_the_model_nothing() -> None:
    store = InMemoryStore()
    model = RecordingChatModel(reply=lambda prompt: "location: Besançon")
    await forget_thread(store, "u1", "doomed")
    work = Housework(
        store,
        Thread("u1", "doomed", remembering=True),
        thread_of(HOME),
        Context(max_history_tokens=250),
        "French",
        model,
        count=ten_each,
    )
    await work.do(summaries.Summary())
    assert model.prompts == []
    await nothing_names(store, "doomed", "Besançon")
