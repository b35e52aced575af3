"""Token counting that matches the model: the embedded server's tokenizer and chat format."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from agent.conversation.context import Context
from agent.conversation.summary import unsummarized
from agent.graph import build_graph
from agent.housekeeping import drained
from agent.models.local.launcher import free_port
from agent.models.local.tokenizer import FALLBACK_PER_MESSAGE, ModelTokenizer, approximate
from agent.testing import scripted_model as fake

PER_MESSAGE = fake.SERVED_FORMAT["per_message"]
PER_PROMPT = fake.SERVED_FORMAT["per_prompt"]


async def test_counts_come_from_the_model_server_and_are_cached(embedded_url: str) -> None:
    tokenizer = ModelTokenizer(embedded_url)
    messages = [HumanMessage("one two three"), AIMessage("four five")]
    await tokenizer.prepare(messages)
    # The fake counts a token a word plus one it adds to every text (as a BOS would be);
    # the chat format's own tokens come from what the server says it adds.
    assert tokenizer(messages) == PER_PROMPT + 3 + 2 + 2 * PER_MESSAGE
    assert sorted(fake.settings.counted) == sorted(["", "one two three", "four five"])

    await tokenizer.prepare([*messages, HumanMessage("six")])
    assert fake.settings.counted[-1] == "six", "only the new text is counted"
    assert len(fake.settings.counted) == 4


async def test_unprepared_or_uncountable_text_is_estimated(embedded_url: str) -> None:
    tokenizer = ModelTokenizer(embedded_url)
    await tokenizer.prepare([])
    unknown = HumanMessage("never prepared text")
    assert tokenizer([unknown]) == PER_PROMPT + approximate("never prepared text") + PER_MESSAGE
    broken = ModelTokenizer(f"http://127.0.0.1:{free_port()}/v1")
    await broken.prepare([unknown])  # nothing listens: logged, estimated
    assert broken([unknown]) == approximate("never prepared text") + FALLBACK_PER_MESSAGE


async def test_the_embedded_model_budget_is_kept_in_its_own_tokens(embedded_url: str) -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}}
    budget = 200
    tokenizer = ModelTokenizer(embedded_url)
    for number in range(30):
        state = await graph.ainvoke(
            {"messages": [{"role": "user", "content": f"turn {number} about the weather"}]},
            config,
            context=Context(model="embedded", max_history_tokens=budget),
        )
        await drained()  # each turn's fold lands before the next turn reads the summary
    assert state.get("summary"), "the history outgrew the budget and was folded"
    recent = unsummarized(state["messages"], state["summarized_through"])
    await tokenizer.prepare(recent)
    assert tokenizer(recent) <= budget
    assert len(state["messages"]) == 60, "the transcript keeps every message"
    assert "turn 29 about the weather" in fake.settings.counted, "counted by the model server"
