"""The graph's conversation behaviour, with an in-memory checkpointer and a fake model."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from agent.conversation.context import Context
from agent.conversation.prompt import count_tokens
from agent.conversation.prompts import LANGUAGE_REMINDER
from agent.graph import builder

REMINDER = "\n\n" + LANGUAGE_REMINDER.format(language="English")


def test_exported_builder_is_uncompiled_and_declares_context() -> None:
    from langgraph.graph import StateGraph

    assert isinstance(builder, StateGraph)
    assert builder.context_schema is Context
    assert "model" in builder.nodes


async def test_second_turn_sends_the_whole_thread(turn, fake_model) -> None:
    await turn("a", "Hi! I'm Bob")
    state = await turn("a", "What's my name?")

    second_prompt = fake_model.prompts[1]
    assert isinstance(second_prompt[0], SystemMessage)
    assert [type(m) for m in second_prompt[1:]] == [HumanMessage, AIMessage, HumanMessage]
    # The newest question is followed by the reply language, in the prompt only.
    assert [m.content for m in second_prompt[1:]] == [
        "Hi! I'm Bob",
        "reply 1",
        "What's my name?" + REMINDER,
    ]
    assert [m.content for m in state["messages"]] == [
        "Hi! I'm Bob",
        "reply 1",
        "What's my name?",
        "reply 2",
    ]


async def test_threads_are_kept_apart(turn, fake_model) -> None:
    await turn("a", "Hi! I'm Bob")
    state_b = await turn("b", "What's my name?")

    prompt_b = fake_model.prompts[1]
    assert [m.content for m in prompt_b[1:]] == ["What's my name?" + REMINDER]
    assert all("Bob" not in str(m.content) for m in prompt_b)
    assert len(state_b["messages"]) == 2


async def test_language_is_kept_until_changed(turn, fake_model) -> None:
    first = await turn("a", "Hola", language="Spanish")
    second = await turn("a", "¿Qué tal?")
    third = await turn("a", "Bonjour", language="French")

    assert first["language"] == second["language"] == "Spanish"
    assert third["language"] == "French"
    systems = [prompt[0].content for prompt in fake_model.prompts]
    assert "Spanish" in systems[0] and "Spanish" in systems[1]
    assert "French" in systems[2] and "Spanish" not in systems[2]


async def test_default_language_is_english(turn, fake_model) -> None:
    await turn("a", "Hi")
    assert "English" in fake_model.prompts[0][0].content


async def test_system_prompt_comes_from_context(turn, fake_model) -> None:
    context = Context(system_prompt="You are a pirate. Reply in {language}.")
    await turn("a", "Hi", context=context, language="German")
    assert fake_model.prompts[0][0].content == "You are a pirate. Reply in German."


async def test_long_history_is_trimmed_to_budget_on_a_human_message(turn, fake_model) -> None:
    budget = 120
    context = Context(max_history_tokens=budget, summarize=False)
    for number in range(30):
        await turn(
            "long", f"message number {number} with a few extra words to count", context=context
        )

    for prompt in fake_model.prompts:
        assert count_tokens(prompt) <= budget
        assert isinstance(prompt[0], SystemMessage)
        assert isinstance(prompt[1], HumanMessage)
        assert isinstance(prompt[-1], HumanMessage)
    last = fake_model.prompts[-1]
    assert last[-1].content.startswith("message number 29")
    assert len(last) < 1 + 2 * 30 - 1, "history was not trimmed"


async def test_message_over_budget_fails_clearly(turn) -> None:
    with pytest.raises(ValueError, match="does not fit in the token budget"):
        await turn("a", "word " * 500, context=Context(max_history_tokens=50))


async def test_a_replayed_run_neither_duplicates_the_message_nor_answers_twice(
    chatbot, fake_model
) -> None:
    # langgraph dev may run a request again after a crash; the server fixed its ids.
    config = {"configurable": {"thread_id": "replayed"}}
    request = {"messages": [{"role": "user", "content": "Hi! I'm Bob", "id": "m-1"}]}
    await chatbot.ainvoke(request, config, context=Context())
    state = await chatbot.ainvoke(request, config, context=Context())
    assert [m.content for m in state["messages"]] == ["Hi! I'm Bob", "reply 1"]
    assert len(fake_model.prompts) == 1
