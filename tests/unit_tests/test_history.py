"""Prompt building: system prompt rendering and token-budget trimming."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from agent.conversation.prompt import build_prompt, count_tokens, render_system_prompt


def conversation(turns: int) -> list:
    messages = []
    for number in range(turns):
        messages.append(HumanMessage(f"question {number} " + "lorem ipsum " * 5))
        messages.append(AIMessage(f"answer {number} " + "dolor sit amet " * 5))
    return messages


@pytest.mark.parametrize("budget", [40, 100, 300, 1000])
def test_prompt_fits_budget_and_keeps_newest_whole_messages(budget: int) -> None:
    history = [*conversation(20), HumanMessage("the newest question")]
    system = SystemMessage("Be brief.")

    prompt = build_prompt(history, system=system, max_tokens=budget)

    assert prompt[0] is system
    assert count_tokens(prompt) <= budget
    assert prompt[-1].content == "the newest question"
    assert isinstance(prompt[1], HumanMessage)
    kept = prompt[1:]
    assert kept == history[-len(kept) :], "kept messages are not the newest, whole and in order"


def test_short_history_is_sent_untouched() -> None:
    history = conversation(2)
    system = SystemMessage("Be brief.")
    assert build_prompt(history, system=system, max_tokens=10_000) == [system, *history]


def test_token_counting_needs_no_network() -> None:
    # tiktoken would try to download its encoding here; the approximate counter does not.
    assert count_tokens([HumanMessage("hello there, how are you today?")]) > 0


def test_system_prompt_is_filled_with_language() -> None:
    rendered = render_system_prompt("Answer in {language}.", "Korean")
    assert rendered.content == "Answer in Korean."


def test_system_prompt_with_unknown_placeholder_says_what_to_do() -> None:
    with pytest.raises(ValueError, match=r"only placeholder it may use is \{language\}"):
        render_system_prompt("Hello {name}", "English")


def test_what_goes_before_the_conversation_counts_against_the_budget() -> None:
    history = [*conversation(20), HumanMessage("the newest question")]
    system = SystemMessage("Be brief.")
    before = [HumanMessage("An example question?"), AIMessage("An example answer.")]
    budget = count_tokens([system, *before, *history[-5:]])

    prompt = build_prompt(history, system=system, max_tokens=budget, before=before)

    assert prompt[:3] == [system, *before]
    assert count_tokens(prompt) <= budget
    assert prompt[3:] == history[-len(prompt[3:]) :] and isinstance(prompt[3], HumanMessage)


def test_nothing_goes_before_a_conversation_that_does_not_fit() -> None:
    system = SystemMessage("Be brief.")
    before = [HumanMessage("An example question?"), AIMessage("An example answer.")]
    too_long = [HumanMessage("word " * 500)]

    prompt = build_prompt(too_long, system=system, max_tokens=100, before=before)

    assert not any(isinstance(m, HumanMessage) for m in prompt), (
        "the graph then says it is too long"
    )


def test_a_long_thread_keeps_the_start_of_its_prompt_for_several_turns() -> None:
    # The embedded model's server reuses what it read of a prompt's start; dropping the
    # oldest turn at every turn made each reply of a long thread read its whole prompt.
    system = SystemMessage("Be brief.")
    budget = 600  # about 13 turns, as the default budget holds about 20 of a chat's turns
    starts, overflowing = [], 0
    for turns in range(1, 80):
        history = [*conversation(turns), HumanMessage(f"question {turns}")]
        prompt = build_prompt(history, system=system, max_tokens=budget)
        assert count_tokens(prompt) <= budget
        assert isinstance(prompt[1], HumanMessage)
        assert prompt[1:] == history[-len(prompt[1:]) :], "not the newest messages, in order"
        overflowing += len(prompt) - 1 < len(history)
        starts.append(prompt[1].content)
    moves = sum(1 for before, after in zip(starts, starts[1:], strict=False) if before != after)
    assert overflowing > 40
    assert moves <= overflowing // 3, f"the prompt's start moved {moves} times in {overflowing}"


def test_a_prompt_that_moved_its_start_still_shows_most_of_what_fits() -> None:
    system = SystemMessage("Be brief.")
    budget = 300
    for turns in range(10, 60):
        history = [*conversation(turns), HumanMessage(f"question {turns}")]
        prompt = build_prompt(history, system=system, max_tokens=budget)
        assert count_tokens(prompt) > budget // 2, f"turn {turns} kept too little of the history"
