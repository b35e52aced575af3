"""Where summaries are kept: what a reply reads stays bounded, and a deleted thread keeps none."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.base import Op, Result, SearchOp
from langgraph.store.memory import InMemoryStore

from agent.conversation import summaries
from agent.conversation.context import Context
from agent.conversation.prompt import message_text
from agent.conversation.prompts import SUMMARIZER_INSTRUCTIONS
from agent.graph import build_graph
from agent.housekeeping import drained
from agent.testing.fake_chat_model import RecordingChatModel

TURNS = 160
"""Turns of a long thread: enough for a few dozen folds at :data:`BUDGET`."""

BUDGET = 300
"""A token budget that a handful of turns fill, so folds come every few turns."""

MANY_FOLDS = 40
"""Summarizer calls the long thread makes at least (one summary saved each)."""

PAST_ONE_PAGE = 450
"""More summaries than one store read returns (the old code deleted 200 of them)."""


class CountingStore(InMemoryStore):
    """An in-memory store that records how many summaries each batched read returned."""

    summaries_read: list[int]

    def __init__(self) -> None:
        super().__init__()
        self.summaries_read = []

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        results = await super().abatch(ops)
        for op, result in zip(ops, results, strict=True):
            if isinstance(op, SearchOp) and op.namespace_prefix[1:2] == (summaries.SUMMARIES,):
                self.summaries_read.append(len(result or []))
        return results


def is_summary_request(messages: list[BaseMessage]) -> bool:
    return message_text(messages[0]).startswith(SUMMARIZER_INSTRUCTIONS[:40])


def reply_or_summary(messages: list[BaseMessage]) -> str:
    """Answer a turn, or a summarizer's request, with a few words."""
    return "The user chatted about the weather." if is_summary_request(messages) else "Go on."


async def test_what_a_reply_reads_stays_the_same_size_as_the_thread_grows() -> None:
    store = CountingStore()
    model = RecordingChatModel(reply=reply_or_summary)
    graph = build_graph(lambda _context: model).compile(checkpointer=InMemorySaver(), store=store)
    config: Any = {"configurable": {"thread_id": "long"}}
    context = Context(max_history_tokens=BUDGET, remember=False)
    reads_per_turn: list[int] = []
    for turn in range(1, TURNS + 1):
        store.summaries_read.clear()
        text = f"Turn {turn}: I walked in the park today and saw some birds."
        payload = {"messages": [{"role": "user", "content": text}]}
        await graph.ainvoke(payload, config, context=context)
        reads_per_turn.append(store.summaries_read[0])  # the reply's own read comes first
        await drained()
    assert sum(is_summary_request(prompt) for prompt in model.prompts) >= MANY_FOLDS
    # A reply reads as many summaries at the end of the thread as in its middle.
    middle, end = reads_per_turn[TURNS // 2 - 10 : TURNS // 2], reads_per_turn[-10:]
    assert max(end) <= max(middle), (middle, end)
    kept = await store.asearch(summaries.namespace("local", "long"), limit=1000)
    assert len(kept) <= summaries.KEPT_PER_THREAD, "older summaries are pruned"
    state = await graph.aget_state(config)
    assert state.values["summarized_through"], "the newest summary still reaches the replies"


async def test_deleting_a_thread_deletes_every_summary_past_one_page() -> None:
    store = InMemoryStore()
    for number in range(PAST_ONE_PAGE):
        # As the old code left them: one item per fold, never pruned.
        value = {"text": f"summary {number}", "through": f"m{number}"}
        await store.aput(summaries.namespace("u1", "long"), f"m{number}", value)
    await store.aput(summaries.namespace("u1", "other"), "m0", {"text": "kept", "through": "m0"})

    assert await summaries.forget_thread(store, "u1", "long") == PAST_ONE_PAGE
    assert await store.asearch(summaries.namespace("u1", "long"), limit=1000) == []
    assert len(await store.asearch(summaries.namespace("u1", "other"))) == 1


async def test_a_branch_whose_summaries_were_pruned_still_finds_its_own() -> None:
    store = InMemoryStore()
    branch = [HumanMessage("hi", id="h1"), AIMessage("hello", id="a1")]
    await summaries.save(store, "u1", "t", summaries.Summary("old branch", "a1"))
    for number in range(summaries.KEPT_PER_THREAD):  # another branch folds again and again
        await summaries.save(store, "u1", "t", summaries.Summary(f"new {number}", f"x{number}"))
    assert await summaries.latest(store, "u1", "t", branch) == summaries.Summary()
    # Its housekeeping saves the summary its state holds again; the newest is kept.
    await summaries.save(store, "u1", "t", summaries.Summary("old branch", "a1"))
    assert await summaries.latest(store, "u1", "t", branch) == summaries.Summary("old branch", "a1")
