"""The graph's conversation behaviour, with an in-memory checkpointer and a fake model."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from agent.conversation.context import Context
from agent.conversation.prompt import count_tokens
from agent.conversation.prompts import LANGUAGE_REMINDER, NOTHING_REMEMBERED, UNKNOWN_EXCHANGES
from agent.graph import builder

REMINDER = "\n\n" + LANGUAGE_REMINDER.format(language="English")


def test_exported_builder_is_uncompiled_and_declares_context() -> None:
    from langgraph.graph import StateGraph

    assert isinstance(builder, StateGraph)
    assert builder.context_schema is Context
    assert "model" in builder.nodes


async def test_a_turn_writes_three_checkpoints(chatbot) -> None:
    """Input, the user's message, the reply: what edit and regenerate fork from, no more."""
    config = {"configurable": {"thread_id": "counted"}}
    for text in ["Hi! I'm Bob", "What's my name?"]:
        await chatbot.ainvoke({"messages": [{"role": "user", "content": text}]}, config)
    history = [state async for state in chatbot.aget_state_history(config)]
    assert len(history) == 6
    steps = [state.metadata["step"] for state in reversed(history)]
    assert steps == [-1, 0, 1, 2, 3, 4]


async def test_second_turn_sends_the_whole_thread(turn, fake_model) -> None:
    await turn("a", "Hi! I'm Bob")
    state = await turn("a", "What's my name?")

    second_prompt = fake_model.prompts[1]
    assert isinstance(second_prompt[0], SystemMessage)
    # The worked exchange, then the whole thread: the question is the prompt's last word.
    assert [m.content for m in second_prompt[1:3]] == list(UNKNOWN_EXCHANGES["English"])
    assert [type(m) for m in second_prompt[3:]] == [HumanMessage, AIMessage, HumanMessage]
    assert [m.content for m in second_prompt[3:]] == ["Hi! I'm Bob", "reply 1", "What's my name?"]
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
    assert [m.content for m in prompt_b[3:]] == ["What's my name?"]
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


async def test_a_thread_with_nothing_telling_is_answered_in_english(turn, fake_model) -> None:
    state = await turn("a", "ok")
    assert "English" in fake_model.prompts[0][0].content
    assert state["reply_language"] == "English"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("저는 하윤이고 청주에 살아요. 요즘 도예를 배우고 있어요.", "Korean"),
        ("はじめまして、湊です。盛岡に住んでいて、尺八を吹きます。", "Japanese"),
        ("你好，我叫梓涵，住在绍兴，平时喜欢下围棋。", "Chinese"),
        ("Bonjour, je m'appelle Maëlle et j'habite à Quimper depuis l'été dernier.", "French"),
        ("Hola, me llamo Itziar y vivo en Logroño con mi perro.", "Spanish"),
        ("Hallo, ich heiße Wiebke und wohne seit März in Husum.", "German"),
        ("Hello there, I'm Tamsin and I just moved to Truro with my cat.", "English"),
    ],
)
async def test_a_thread_is_answered_in_the_language_its_user_writes(
    turn, fake_model, text, language
) -> None:
    state = await turn("a", text)
    system, newest = fake_model.prompts[0][0], fake_model.prompts[0][-1]
    assert language in system.content and "English" not in system.content.replace(language, "")
    assert newest.content == text, "nothing after a message already in the reply language"
    assert state["reply_language"] == language
    assert "language" not in state, "a detected language is shown, never stored as set"


async def test_a_user_who_switches_language_is_followed(turn, fake_model) -> None:
    await turn("a", "Hallo, ich heiße Wiebke und wohne in Husum.")
    await turn("a", "ok")  # nothing telling: the thread keeps its language, and says which
    state = await turn("a", "Au fait, je préfère qu'on parle français maintenant.")
    newest = [prompt[-1].content for prompt in fake_model.prompts]
    assert newest == [
        "Hallo, ich heiße Wiebke und wohne in Husum.",
        "ok" + REMINDER.replace("English", "German"),
        "Au fait, je préfère qu'on parle français maintenant.",
    ]
    assert state["reply_language"] == "French"


async def test_a_set_language_wins_until_cleared(turn, fake_model) -> None:
    """A message not in the reply language is followed by it, in the prompt only."""
    await turn("a", "저는 하윤이고 청주에 살아요.", language="English")
    state = await turn("a", "요즘 도예를 배우고 있어요.")
    assert state["reply_language"] == "English"
    assert [m.content for m in state["messages"][::2]] == [
        "저는 하윤이고 청주에 살아요.",
        "요즘 도예를 배우고 있어요.",
    ]
    cleared = await turn("a", "도예가 정말 재미있어요.", language="")
    assert cleared["reply_language"] == "Korean"
    assert [p[-1].content for p in fake_model.prompts] == [
        "저는 하윤이고 청주에 살아요." + REMINDER,
        "요즘 도예를 배우고 있어요." + REMINDER,
        "도예가 정말 재미있어요.",
    ]


async def test_system_prompt_comes_from_context(turn, fake_model) -> None:
    context = Context(system_prompt="You are a pirate. Reply in {language}.")
    await turn("a", "Hi", context=context, language="German")
    assert (
        fake_model.prompts[0][0].content
        == f"You are a pirate. Reply in German.\n\n{NOTHING_REMEMBERED}"
    )


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


async def test_the_reply_path_reads_the_store_once() -> None:
    """Summary and memory come in one batch before the reply; the rest runs after it."""
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.store.memory import InMemoryStore

    from agent.graph import build_graph
    from agent.housekeeping import drained
    from agent.testing.fake_chat_model import RecordingChatModel

    class CountingStore(InMemoryStore):
        calls = 0

        async def abatch(self, ops):  # every async store call ends here
            CountingStore.calls += 1
            return await super().abatch(ops)

    reads: list[int] = []  # store calls so far, at each model request
    answers = iter(["Enchanté !", "Bien sûr."] * 5)

    def reads_before_reply(_prompt):
        reads.append(CountingStore.calls)
        return next(answers)

    model = RecordingChatModel(reply=reads_before_reply)
    store = CountingStore()
    graph = build_graph(lambda _context: model).compile(checkpointer=InMemorySaver(), store=store)
    config = {"configurable": {"thread_id": "counted-reads", "langgraph_auth_user_id": "u"}}
    for text in ["Je m'appelle Maëlle et j'habite à Quimper.", "Quel temps fait-il ?"]:
        await drained()
        before = CountingStore.calls
        await graph.ainvoke({"messages": [{"role": "user", "content": text}]}, config)
        reply_request = next(r for r in reads if r >= before)
        assert reply_request - before == 1, "one store round trip before the reply"
        reads.clear()
    await drained()


@pytest.mark.parametrize(
    ("facts", "question"),
    [
        (
            (("name", "Ludivine"), ("location", "Sète"), ("pet", "Pistache")),
            "Comment s'appelle mon chat ?",
        ),
        (
            (("name", "보람"), ("location", "여수"), ("instrument", "해금")),
            "제가 연주하는 악기가 뭐예요?",
        ),
        (
            (("name", "千尋"), ("location", "倉敷"), ("health", "そばアレルギー")),
            "私は何のアレルギーがありますか？",
        ),
    ],
)
async def test_a_new_conversation_lists_what_the_user_told_as_theirs(facts, question) -> None:
    """The facts reach the system prompt as a list about the user, bounded by what is not known."""
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.store.memory import InMemoryStore

    from agent.conversation.prompts import (
        EXAMPLES_HEADING,
        MEMORY_BOUNDS,
        MEMORY_HEADING,
        NAME_EXAMPLE,
        UNKNOWN_EXAMPLE,
    )
    from agent.graph import build_graph
    from agent.housekeeping import drained
    from agent.memory.facts import Fact, namespace
    from agent.testing.fake_chat_model import RecordingChatModel

    store = InMemoryStore()
    for topic, text in facts:
        fact = Fact(topic, text, updated_at="2026-12-01T10:00:00+00:00")
        await store.aput(namespace("u"), fact.store_key(), fact.value())
    model = RecordingChatModel(reply=lambda _prompt: "…")
    graph = build_graph(lambda _context: model).compile(checkpointer=InMemorySaver(), store=store)
    config = {"configurable": {"thread_id": "new", "langgraph_auth_user_id": "u"}}
    await graph.ainvoke({"messages": [{"role": "user", "content": question}]}, config)
    await drained()

    system = model.prompts[0][0].content
    listed = system.split(f"{MEMORY_HEADING}\n", 1)[1].splitlines()
    labels = {"name": "name", "location": "lives in"}
    assert listed == [
        *(f"- {labels.get(topic, topic)}: {text}" for topic, text in facts),
        MEMORY_BOUNDS,
        EXAMPLES_HEADING,
        NAME_EXAMPLE.format(name=facts[0][1]),  # the user's own name, never another's
        UNKNOWN_EXAMPLE,
    ]
    assert NOTHING_REMEMBERED not in system
    assert model.prompts[0][-1].content == question, "the question is the prompt's last word"


async def test_with_nothing_remembered_the_prompt_says_so(turn, fake_model) -> None:
    await turn("a", "¿Cómo se llama mi hermana?")
    system = fake_model.prompts[0][0].content
    assert system.endswith(NOTHING_REMEMBERED)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("안녕하세요, 저는 도담이고 여수에 살아요.", "Korean"),
        ("こんにちは、七海です。鳥取に住んでいます。", "Japanese"),
        ("Bonjour, je suis Anaïs et j'habite à Sète.", "French"),
        ("Ciao, sono Ottavio e abito a Lecce.", "Italian"),
    ],
)
async def test_the_worked_exchange_is_in_the_reply_language_and_only_in_the_prompt(
    turn, fake_model, text, language
) -> None:
    state = await turn("a", text)
    prompt = fake_model.prompts[0]
    question, answer = UNKNOWN_EXCHANGES.get(language, UNKNOWN_EXCHANGES["English"])
    assert state["reply_language"] == language
    assert [(type(m), m.content) for m in prompt[1:3]] == [
        (HumanMessage, question),
        (AIMessage, answer),
    ], "after the system prompt, before the conversation"
    assert prompt[-1].content == text, "the user's message is still the last word"
    assert [m.content for m in state["messages"]] == [text, "reply 1"], "never in the thread"
