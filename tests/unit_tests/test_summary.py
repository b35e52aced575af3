"""Long conversations: the running summary keeps the prompt bounded and the facts."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator, Sequence
from itertools import pairwise
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.outputs import ChatGenerationChunk
from langgraph.checkpoint.memory import InMemorySaver

from agent.conversation.context import Context
from agent.conversation.prompt import count_tokens, message_text
from agent.conversation.prompts import (
    NEW_MESSAGES,
    SUMMARIZER_INSTRUCTIONS,
    SUMMARY_HEADING,
    SUMMARY_SO_FAR,
)
from agent.conversation.summary import (
    bound_summary,
    merged,
    split_for_folding,
    unsummarized,
)
from agent.graph import build_graph
from agent.housekeeping import drained
from agent.testing.fake_chat_model import RecordingChatModel

PROMPT_PREAMBLE = 3
"""A reply prompt's messages before the conversation: system prompt, worked exchange."""

BUDGET = 500


class FoldingScript:
    """Answers turns with "reply N"; as summarizer, keeps facts it is shown, by rule.

    The summarizer's answer is the current summary plus a marker for every
    "My name is ..." it finds in the new messages, so the test can follow what
    the summarizer returned through later prompts: the mechanism, not wit.
    """

    def __init__(self) -> None:
        self.answer_prompts: list[list[BaseMessage]] = []
        self.summary_prompts: list[list[BaseMessage]] = []
        self.summaries: list[str] = []
        self.calls: list[str] = []

    def __call__(self, messages: list[BaseMessage]) -> str:
        if is_summary_request(messages):
            self.calls.append("summary")
            self.summary_prompts.append(list(messages))
            request = message_text(messages[-1])
            so_far, new = request.removeprefix(SUMMARY_SO_FAR + " ").split(" " + NEW_MESSAGES, 1)
            facts = [] if so_far == "none." else [so_far]
            if "My name is " in new:
                facts.append(
                    "FACT name=" + new.split("My name is ", 1)[1].split('"')[0].strip(" .")
                )
            summary = "; ".join(facts) or "small talk"
            self.summaries.append(summary)
            return summary
        self.calls.append("answer")
        self.answer_prompts.append(list(messages))
        return f"reply {len(self.answer_prompts)}"


def is_summary_request(messages: list[BaseMessage]) -> bool:
    return message_text(messages[0]).startswith(SUMMARIZER_INSTRUCTIONS[:40])


async def test_300_turns_stay_in_budget_and_keep_the_name() -> None:
    script = FoldingScript()
    model = RecordingChatModel(reply=script)
    graph = build_graph(lambda _context: model).compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "long"}}
    context = Context(max_history_tokens=BUDGET)

    fold_turns = []
    for turn in range(1, 301):
        text = "My name is Bob." if turn == 1 else f"Small talk number {turn}, nice weather."
        calls_before = len(script.calls)
        state = await graph.ainvoke(
            {"messages": [{"role": "user", "content": text}]}, config, context=context
        )
        await drained()  # the fold of this turn, if any, runs after its reply
        calls = script.calls[calls_before:]
        # The reply is asked for first; a fold it made due comes after it, off its path.
        assert calls[0] == "answer" and "answer" not in calls[1:], (turn, calls)
        if "summary" in calls:
            fold_turns.append(turn)
        # Nothing is left out: the prompt holds every message the summary does not cover.
        covered = state.get("summarized_through")
        assert len(script.answer_prompts[-1]) - PROMPT_PREAMBLE == len(
            unsummarized(state["messages"][:-1], covered)
        ), turn

    # Every prompt that answered a turn fitted the budget and ended on the user's turn.
    assert len(script.answer_prompts) == 300
    for prompt in script.answer_prompts:
        assert count_tokens(prompt) <= BUDGET
        assert isinstance(prompt[0], SystemMessage) and isinstance(prompt[-1], HumanMessage)

    # The summary step ran only when the history had outgrown the budget: on far fewer
    # turns than there were, never on two turns in a row, and never before the budget filled.
    assert 5 <= len(fold_turns) <= 300 // 4, fold_turns
    assert all(later - earlier > 1 for earlier, later in pairwise(fold_turns))
    assert fold_turns[0] > 5
    first_fold = message_text(script.summary_prompts[0][-1])
    assert 'user: "My name is Bob."' in first_fold
    assert script.summaries[0] == "FACT name=Bob"

    # What the summarizer returned for the early turns reaches the prompt at turn 300.
    last_system = message_text(script.answer_prompts[-1][0])
    assert SUMMARY_HEADING in last_system
    assert "FACT name=Bob" in last_system
    assert state["summary"] in script.summaries[-2:]  # the newest, or one fold behind
    assert state["summary"] in last_system
    assert "FACT name=Bob" in state["summary"]

    # The transcript keeps all 600 messages in order; only the part after the marker,
    # which the prompt shows verbatim, is bounded by the budget.
    assert len(state["messages"]) == 600
    assert state["messages"][0].content == "My name is Bob."
    assert [m.content for m in state["messages"][1::2]] == [f"reply {n}" for n in range(1, 301)]
    assert count_tokens(unsummarized(state["messages"], state["summarized_through"])) <= BUDGET
    assert all(
        "My name is Bob" not in message_text(m)
        for m in script.answer_prompts[-1][1:]  # past the system prompt with the summary
    ), "the first turn reaches the last prompt only through the summary"


class SlowSummarizer(RecordingChatModel):
    """A recording model whose summaries wait until the test lets them through."""

    release: Any = None

    async def _astream(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        if is_summary_request(messages):
            await self.release.wait()
        text = message_text(self._generate(messages).generations[0].message)
        yield ChatGenerationChunk(message=AIMessageChunk(content=text))


async def test_replies_never_wait_for_a_fold_and_no_turn_is_lost() -> None:
    script = FoldingScript()
    model = SlowSummarizer(reply=script, release=asyncio.Event())
    graph = build_graph(lambda _context: model).compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "held-fold"}}
    context = Context(max_history_tokens=BUDGET)
    said = ["My name is Bob."] + [f"Small talk number {n}, nice weather." for n in range(2, 60)]
    for text in said:
        # Every turn is answered while the summarizer is held: nothing waits for it.
        state = await asyncio.wait_for(
            graph.ainvoke(
                {"messages": [{"role": "user", "content": text}]}, config, context=context
            ),
            timeout=30,
        )
    assert len(script.answer_prompts) == len(said)
    assert not script.summaries, "the held summarizer has not answered"
    for prompt in script.answer_prompts:
        assert count_tokens(prompt) <= BUDGET  # what fits, while the fold lags

    model.release.set()
    await drained()
    # The fold caught up: the next reply's prompt holds the summary and every message after it.
    state = await graph.ainvoke(
        {"messages": [{"role": "user", "content": "And now?"}]}, config, context=context
    )
    await drained()
    assert "FACT name=Bob" in message_text(script.answer_prompts[-1][0])
    assert len(script.answer_prompts[-1]) - PROMPT_PREAMBLE == len(
        unsummarized(state["messages"][:-1], state["summarized_through"])
    )


async def test_short_conversations_are_never_summarized(fake_model) -> None:
    graph = build_graph(lambda _context: fake_model).compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "short"}}
    for text in ["Hi! I'm Bob", "What's my name?"]:
        state = await graph.ainvoke(
            {"messages": [{"role": "user", "content": text}]}, config, context=Context()
        )
    assert "summary" not in state
    assert len(fake_model.prompts) == 2 and len(state["messages"]) == 4


async def test_summary_off_only_trims(fake_model) -> None:
    graph = build_graph(lambda _context: fake_model).compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}}
    context = Context(max_history_tokens=100, summarize=False)
    for number in range(20):
        state = await graph.ainvoke(
            {"messages": [{"role": "user", "content": f"message {number} " * 5}]},
            config,
            context=context,
        )
    assert "summary" not in state
    assert len(state["messages"]) == 40, "without summaries the thread keeps every message"
    assert len(fake_model.prompts) == 20


def test_folding_keeps_newest_whole_turns_starting_on_a_human_message() -> None:
    history: list[BaseMessage] = []
    for number in range(10):
        history += [HumanMessage(f"question {number} " * 4), AIMessage(f"answer {number} " * 4)]
    older, kept = split_for_folding(history, 200, count_tokens)
    assert older + kept == history
    assert older and kept
    assert isinstance(kept[0], HumanMessage)
    assert count_tokens(kept) <= 100


async def test_a_fold_cut_between_its_calls_keeps_what_it_folded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An early fold longer than a user's pause: each summarizer call's work is kept."""
    from langgraph.store.memory import InMemoryStore

    from agent import chores
    from agent.conversation import summaries
    from agent.models.gate import ModelGate
    from agent.turn import Thread

    gate = ModelGate(exclusive=True)  # the embedded model's: a reply cuts background calls
    monkeypatch.setattr(chores, "model_gate", lambda: gate)
    second_call, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def summarize(prompt: list[BaseMessage]) -> str:
        calls.append(message_text(prompt[-1]))
        if len(calls) == 2:  # a user's message arrives during the second call
            second_call.set()
            release.wait(timeout=30)
        return f"Summary of call {len(calls)}."

    messages: list[Any] = []
    for n in range(12):
        messages += [
            HumanMessage(f"Message {n}.", id=f"h{n}"),
            AIMessage(f"Reply {n}.", id=f"a{n}"),
        ]

    def ten_each(prompt: Sequence[BaseMessage]) -> int:  # 24 messages: 240 of 250 tokens
        return sum(0 if isinstance(m, SystemMessage) else 10 for m in prompt)

    store = InMemoryStore()
    work = chores.Housework(
        store,
        Thread("u", "t", remembering=False),
        messages,
        Context(max_history_tokens=250),
        "English",
        RecordingChatModel(reply=summarize),
        count=ten_each,
    )
    fold = asyncio.create_task(work.fold())
    await asyncio.to_thread(second_call.wait, 30)
    async with gate.replying():  # the reply cuts the fold's second call
        pass
    assert await fold is False
    release.set()

    # The first call's summary is kept, through the reply before the next call's first message.
    assert await summaries.latest(store, "u", "t", messages) == summaries.Summary(
        "Summary of call 1.", "a3"
    )
    assert "Message 0." in calls[0] and "Message 3." in calls[0] and "Message 4." not in calls[0]
    assert await work.fold() is False  # what is left fits: no summarizer call is repeated
    assert len(calls) == 2


async def test_each_new_summary_is_read_ahead_and_the_next_reply_starts_as_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the embedded model, a fold's new summary changes the prompt's start: each one
    saved is read ahead before the next summarizer call, and every reply's prompt begins
    with what was read last, so a reply that comes mid-fold has no prompt to read cold."""
    from agent import chores

    monkeypatch.setattr(chores, "_reads_prompts_ahead", lambda: True)
    asked: list[tuple[str, list[BaseMessage]]] = []

    def answer(prompt: list[BaseMessage]) -> str:
        kind = "summary" if is_summary_request(prompt) else "chat"
        asked.append((kind, list(prompt)))
        return f"Summary number {len(asked)}." if kind == "summary" else "Fine, thanks."

    model = RecordingChatModel(reply=answer)
    graph = build_graph(lambda _context: model).compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "read-ahead"}}
    context = Context(max_history_tokens=BUDGET)
    calls_per_fold: list[int] = []
    for turn in range(1, 61):
        before = len(asked)
        text = f"Small talk number {turn}, nice weather today."
        await graph.ainvoke(
            {"messages": [{"role": "user", "content": text}]}, config, context=context
        )
        kind, reply = asked[before]  # the reply is asked for first
        assert kind == "chat" and message_text(reply[-1]).startswith(text)
        if before:
            read_last = asked[before - 1]
            assert read_last[0] == "chat", f"turn {turn}: the reply came after a summary"
            assert reply[: len(read_last[1])] == read_last[1], f"turn {turn} read cold"
        await drained()
        calls_per_fold.append(sum(kind == "summary" for kind, _ in asked[before:]))

    assert max(calls_per_fold) >= 2, "a fold took several summarizer calls"
    kinds = [kind for kind, _ in asked]
    folded = [index for index, kind in enumerate(kinds) if kind == "summary"]
    for index in folded:
        summary = f"Summary number {index + 1}."
        kind, read = asked[index + 1]
        assert kind == "chat" and summary in message_text(read[0]), "read before anything else"


@pytest.mark.parametrize(
    ("so_far", "kept", "dropped"),
    [
        (
            "The user's name is Tavita. The user's dog is Kowhai.",
            "The user's name is Tavita; the user's dog is Kowhai. The user likes chess.",
            "The spider has 8 legs.",
        ),
        (
            "사용자의 이름은 재온이고 영월에 산다.",
            "사용자의 이름은 재온이고 영월에 산다. 사용자는 서예를 좋아한다.",
            "거미는 다리가 8개다.",
        ),
        (
            "ユーザーの名前はユウトで、根室に住んでいる。",
            "ユーザーの名前はユウトで、根室に住んでいる。猫を飼っている。",
            "クモの足は8本です。",
        ),
        (
            "L'utilisateur s'appelle Perrine et habite à Millau.",
            "L'utilisateur s'appelle Perrine, habite à Millau et joue de la vielle.",
            "Une araignée a huit pattes.",
        ),
    ],
    ids=["English", "Korean", "Japanese", "French"],
)
def test_an_answer_that_drops_the_summary_so_far_is_added_after_it(
    so_far: str, kept: str, dropped: str
) -> None:
    assert merged(so_far, kept) == kept, "a real merge is taken as it is"
    assert merged(so_far, dropped) == f"{so_far} {dropped}", "nothing said before is lost"
    assert merged("", dropped) == dropped, "the first summary is the answer"


@pytest.mark.parametrize(
    ("introduction", "name"),
    [
        ("Hi! I'm Tavita and my dog is called Kowhai.", "Tavita"),
        ("안녕하세요, 저는 재온이고 영월에 살아요.", "재온"),
        ("こんにちは、ユウトです。根室に住んでいます。", "ユウト"),
        ("Salut ! Je m'appelle Perrine et j'habite à Millau.", "Perrine"),
    ],
    ids=["English", "Korean", "Japanese", "French"],
)
async def test_a_summarizer_that_forgets_what_it_was_given_loses_nothing(
    introduction: str, name: str
) -> None:
    """A small model often answers a merge with the new messages alone: the first
    thing the user said still reaches the prompt after many folds."""

    def forgetful(prompt: list[BaseMessage]) -> str:
        if not is_summary_request(prompt):
            return "Noted."
        new = message_text(prompt[-1]).split(NEW_MESSAGES, 1)[1]
        return " ".join(re.findall(r'user: "([^"]*)"', new))  # the new messages alone

    model = RecordingChatModel(reply=forgetful)
    graph = build_graph(lambda _context: model).compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": f"forgetful-{introduction[:8]}"}}
    context = Context(max_history_tokens=BUDGET)
    said = [introduction] + [f"Small talk number {turn}, nice weather." for turn in range(1, 60)]
    for text in said:
        await graph.ainvoke(
            {"messages": [{"role": "user", "content": text}]}, config, context=context
        )
        await drained()
    summaries_asked = [prompt for prompt in model.prompts if is_summary_request(prompt)]
    assert len(summaries_asked) >= 4, "several folds, each given the summary so far"
    last_reply_prompt = [p for p in model.prompts if not is_summary_request(p)][-1]
    assert name in message_text(last_reply_prompt[0]), "the summary still names the user"
    assert all(name not in message_text(m) for m in last_reply_prompt[1:]), "only the summary"


@pytest.mark.parametrize(
    "summary",
    [
        "ユーザーの名前はユウトで、根室に住んでいて、毎朝港まで歩き、週末は灯台の写真を撮っている。"
        * 6,
        "The user's name is Tavita and the user's dog is Kowhai. " * 12,
        "사용자의 이름은 재온이고 영월에 살며 주말마다 서예를 한다. " * 8,
    ],
    ids=["Japanese", "English", "Korean"],
)
def test_a_summary_past_its_share_is_cut_from_its_end_in_any_script(summary: str) -> None:
    budget = 200
    bounded = bound_summary(summary, budget, count_tokens)
    assert bounded, "something is kept, even of a script written without spaces"
    assert count_tokens([SystemMessage(bounded)]) <= budget // 4
    assert summary.startswith(bounded), "the oldest part is kept, the newest cut"


@pytest.mark.parametrize(("turns", "first"), [(12, "memory"), (13, "summary")])
async def test_memory_is_learnt_before_a_fold_the_replies_do_not_need_yet(
    turns: int, first: str
) -> None:
    """A fact stated is known in a new conversation a fold sooner; a fold the replies
    already need (they leave out turns no summary covers) still comes first."""
    from langgraph.store.memory import InMemoryStore

    from agent import chores
    from agent.conversation import summaries
    from agent.memory import keeper
    from agent.turn import Thread

    calls: list[str] = []

    def model(prompt: list[BaseMessage]) -> str:
        if is_summary_request(prompt):
            calls.append("summary")
            return "They chatted."
        calls.append("memory")
        return "name: Honorine" if "Honorine" in message_text(prompt[-1]) else "none"

    messages: list[Any] = []
    for n in range(turns - 1):
        messages += [
            HumanMessage(f"Message {n}.", id=f"h{n}"),
            AIMessage(f"Reply {n}.", id=f"a{n}"),
        ]
    messages += [
        HumanMessage("Je m'appelle Honorine.", id="me"),
        AIMessage("Enchanté, Honorine !", id="hi"),
    ]

    def ten_each(prompt: Sequence[BaseMessage]) -> int:  # 12 turns: 240 of 250 tokens
        return sum(0 if isinstance(m, SystemMessage) else 10 for m in prompt)

    store = InMemoryStore()
    work = chores.Housework(
        store,
        Thread("u", "t", remembering=True),
        messages,
        Context(max_history_tokens=250),
        "French",
        RecordingChatModel(reply=model),
        count=ten_each,
    )
    await work.do(summaries.Summary())

    assert "summary" in calls and "memory" in calls, calls
    assert calls[0] == first, calls
    facts = keeper.facts_in(await store.asearch(keeper.namespace("u")), "u")
    assert [(fact.topic, fact.text) for fact in facts] == [("name", "Honorine")]
