"""What earlier conversations said reaches a new one's prompt, only when asked about, only the user's.

Ranking is tested on its own (any script, particles attached, a question about
something never said finds nothing); the graph is tested with the project's
savers on SQLite and PostgreSQL, whose search index the chores fill after each
reply, and a fake model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.store.memory import InMemoryStore

from agent import housekeeping
from agent.conversation.context import Context
from agent.conversation.prompt import message_text
from agent.graph import build_graph
from agent.memory.earlier import Exchange, relevant, word_grams
from agent.storage.checkpointer import PostgresSaver, SqliteSaver
from agent.storage.search import index_for
from agent.testing.fake_chat_model import RecordingChatModel
from agent.testing.turns import user

DATED = re.compile(r"^\[(?:[^\]]*, )?\d{4}-\d\d-\d\d\] ")
"""How an earlier conversation's user message starts in the prompt (``prompts.EARLIER_SAID``)."""

EARLIER = [
    Exchange(
        "t1", "2026-12-01T10:00:00", "소설 한 권 추천해 줄래요?", "『은하철도의 밤』을 추천해요."
    ),
    Exchange("t2", "2026-12-02T10:00:00", "내일 날씨 어때요?", "맑고 따뜻할 거예요."),
    Exchange("t3", "2026-12-03T10:00:00", "Je pars à Brive en mars.", "Bon voyage à Brive !"),
    Exchange(
        "t4", "2026-12-04T10:00:00", "カレーのレシピを教えて", "ガラムマサラを小さじ1入れます。"
    ),
    Exchange("t5", "2026-12-05T10:00:00", "What is 7 times 6?", "It is 42."),
]


@pytest.mark.parametrize(
    ("message", "thread"),
    [
        ("지난번에 추천해 준 소설이 뭐였죠?", "t1"),  # the particle differs: 소설이 / 소설
        ("Quand est-ce que je pars à Brive ?", "t3"),
        ("カレーのレシピに何を入れるんでしたっけ？", "t4"),
    ],
)
def test_an_earlier_exchange_is_found_by_what_the_message_shares(message: str, thread: str) -> None:
    found = relevant(EARLIER, message)
    assert found and found[0].thread_id == thread


@pytest.mark.parametrize(
    "message",
    [
        "리스본 여행 계획이 뭐였죠?",  # a trip never spoken of
        "Qu'est-ce que tu m'as conseillé pour Tulle ?",
        "昨日の映画の名前は何でしたか？",
        "Write a poem about autumn.",
    ],
)
def test_a_message_about_nothing_said_before_finds_nothing(message: str) -> None:
    assert relevant(EARLIER, message) == []


@pytest.mark.parametrize(
    ("message", "thread"),
    [
        ("통영 여행 때 추천해 준 식당이 어디였죠?", None),  # "recommend" only: not the novel
        ("지난번에 추천해 준 소설이 뭐였죠?", "t1"),
        ("Quel restaurant m'as-tu conseillé pour mon voyage à Brive ?", "t3"),  # Brive, voyage
        ("Which restaurant did you recommend for my trip to Whitby?", None),
        ("Which novel did you recommend to me?", "t6"),
    ],
)
def test_an_exchange_must_hold_most_of_what_the_message_shares_with_any(
    message: str, thread: str | None
) -> None:
    """Sharing one word of two ("recommend") is chance; the trip's place was never said."""
    history = [
        *EARLIER,
        Exchange("t6", "2026-12-06T10:00:00", "Could you recommend a novel?", "Try 'Kokoro'."),
        Exchange("t7", "2026-12-06T11:00:00", "I fly to Oslo next week.", "Have a good trip!"),
        Exchange("t8", "2026-12-06T12:00:00", "다음 주에 여행 가요.", "즐거운 여행 되세요!"),
    ]
    found = relevant(history, message)
    assert [e.thread_id for e in found][:1] == ([thread] if thread else [])
    if thread is None:
        assert found == []


def test_pairs_stay_within_words_in_any_script() -> None:
    assert word_grams("Ça va") == {"ca", "va"}
    assert word_grams("소설이 뭐") == {"소설", "설이", "뭐"}


ANSWERS = {
    "Une recette de clafoutis, s'il te plaît ?": "Mets 300 g de griottes et 3 œufs.",
    "떡볶이 만드는 법 알려 주세요.": "고추장 두 큰술과 떡을 넣으세요.",
}


def answer(messages: Sequence[BaseMessage]) -> str:
    """The bot's fixed answers; anything else (memory's extraction included) gets 'none'."""
    return ANSWERS.get(message_text(messages[-1]), "none")


def config_of(thread_id: str, user_id: str) -> RunnableConfig:
    return {
        "configurable": {"thread_id": thread_id, "langgraph_auth_user_id": user_id},
        "metadata": {"langgraph_auth_user_id": user_id},
    }


def earlier_note(prompt: Sequence[BaseMessage]) -> str:
    """The earlier exchanges, which come as turns just before the newest message ('' if none)."""
    assert isinstance(prompt[-1], HumanMessage)
    dated = [
        number
        for number, message in enumerate(prompt[:-1])
        if isinstance(message, HumanMessage) and DATED.match(message_text(message))
    ]
    if not dated:
        return ""
    assert dated[-1] == len(prompt) - 3, "an earlier exchange ends just before the newest message"
    return "\n".join(message_text(m) for m in prompt[dated[0] : -1])


async def test_a_new_conversation_is_told_what_an_earlier_one_said_when_asked(
    saver: SqliteSaver | PostgresSaver,
) -> None:
    model = RecordingChatModel(reply=answer)
    graph = build_graph(lambda _context: model).compile(checkpointer=saver, store=InMemoryStore())
    context = Context(remember=True)

    async def say(thread_id: str, text: str, user_id: str = "ana") -> list[Any]:
        await graph.ainvoke(user(text), config_of(thread_id, user_id), context=context)
        await housekeeping.drained()  # the chores index the reply
        return [p for p in model.prompts if message_text(p[-1]) == text][-1]

    await say("recipe", "Une recette de clafoutis, s'il te plaît ?")
    await say("korean", "떡볶이 만드는 법 알려 주세요.")

    note = earlier_note(await say("new", "Combien de griottes dans le clafoutis ?"))
    assert "300 g de griottes" in note and "떡볶이" not in note
    assert "고추장" in earlier_note(await say("new2", "떡볶이에 뭐 넣었죠?"))

    ordinary = await say("new", "Quelle heure est-il à Lima ?")
    assert earlier_note(ordinary) == "", "nothing said before: the prompt is as without memory"
    assert not any("300 g" in message_text(m) for m in ordinary)

    other_user = await say("bob-1", "Combien de griottes dans le clafoutis ?", user_id="bob")
    assert earlier_note(other_user) == "", "another user's conversations are never read"

    index = index_for(saver)
    assert index is not None
    await saver.adelete_thread("recipe")
    await index.forget_thread("recipe")
    gone = await say("new3", "Combien de griottes dans le clafoutis ?")
    assert "300 g" not in earlier_note(gone), "a deleted conversation is never used again"


async def test_the_conversation_in_progress_is_not_searched(
    saver: SqliteSaver | PostgresSaver,
) -> None:
    model = RecordingChatModel(reply=answer)
    graph = build_graph(lambda _context: model).compile(checkpointer=saver, store=InMemoryStore())
    config = config_of("only", "ana")
    await graph.ainvoke(user("Une recette de clafoutis, s'il te plaît ?"), config)
    await housekeeping.drained()
    await graph.ainvoke(user("Combien de griottes dans le clafoutis ?"), config)
    assert earlier_note(model.prompts[-1]) == "", "what it already shows is not repeated"


def test_with_few_conversations_a_shared_short_word_is_not_enough() -> None:
    few = [Exchange("t1", "2026-12-01T10:00:00", "Quand est-ce que je pars à Brive ?", "Le 3.")]
    assert relevant(few, "Quelle heure est-il à Lima ?") == [], "'que' alone is chance"
    assert relevant(few, "Je pars quand à Brive, déjà ?") == few


def test_an_exchange_that_says_a_forgotten_value_is_never_given() -> None:
    from agent.memory.deletions import value_marker
    from agent.memory.earlier import not_forgotten

    said = [
        Exchange("t1", "2026-12-01T10:00:00+00:00", "저는 하윤이에요. 소설 좋아해요.", "반가워요!"),
        Exchange(
            "t2", "2026-12-02T10:00:00+00:00", "鳥羽に住んでいます。小説が好き。", "いいですね。"
        ),
        Exchange(
            "t3",
            "2026-12-03T10:00:00+00:00",
            "J'habite à Saint-Étienne, j'adore les romans.",
            "Super !",
        ),
    ]
    forgot = {value_marker("하윤"), value_marker("鳥羽"), value_marker("Saint-Etienne")}
    for exchange in said:
        assert not not_forgotten(forgot, "")(exchange), exchange.said
        assert not_forgotten(set(), "")(exchange)
    everything_at = "2026-12-02T12:00:00+00:00"
    assert [e.thread_id for e in said if not_forgotten(set(), everything_at)(e)] == ["t3"]


async def test_a_forgotten_fact_never_comes_back_through_an_earlier_conversation(
    saver: SqliteSaver | PostgresSaver,
) -> None:
    from agent.memory import deletions
    from agent.memory.facts import Fact

    ANSWERS["Je m'appelle Ombrine et j'habite à Foix, près de l'Ariège."] = "Enchanté, Ombrine !"
    model = RecordingChatModel(reply=answer)
    store = InMemoryStore()
    graph = build_graph(lambda _context: model).compile(checkpointer=saver, store=store)
    context = Context(remember=True)

    async def say(thread_id: str, text: str) -> list[BaseMessage]:
        await graph.ainvoke(user(text), config_of(thread_id, "ana"), context=context)
        await housekeeping.drained()
        return [p for p in model.prompts if message_text(p[-1]) == text][-1]

    await say("intro", "Je m'appelle Ombrine et j'habite à Foix, près de l'Ariège.")
    assert "Foix" in earlier_note(await say("q1", "Tu te souviens de l'Ariège ?"))
    await deletions.mark_forgotten(store, "ana", [Fact("location", "Foix")])
    assert "Foix" not in earlier_note(await say("q2", "Tu te souviens de l'Ariège ?"))


async def test_a_question_about_a_past_day_is_shown_that_days_conversations(
    saver: SqliteSaver | PostgresSaver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime, time, timedelta

    from agent import graph as graph_module

    ANSWERS["Peux-tu me conseiller un roman sur la mer ?"] = "Lis « Le Phare d'Ouessant »."
    ANSWERS["오늘 등산 갈 만한 곳 있어요?"] = "북한산 어때요?"
    ANSWERS["Wie koche ich Linsensuppe?"] = "Mit Kreuzkümmel."
    model = RecordingChatModel(reply=answer)
    graph = build_graph(lambda _context: model).compile(checkpointer=saver, store=InMemoryStore())
    context = Context(remember=True)
    today = datetime.now().astimezone().date()

    def noon(days_ago: int) -> str:
        local = datetime.combine(today - timedelta(days=days_ago), time(12)).astimezone()
        return local.astimezone(UTC).isoformat()

    async def say(thread_id: str, text: str, days_ago: int = 0) -> list[BaseMessage]:
        when = noon(days_ago) if days_ago else None
        monkeypatch.setattr(graph_module, "instant", lambda: when or datetime.now(UTC).isoformat())
        await graph.ainvoke(user(text), config_of(thread_id, "ana"), context=context)
        await housekeeping.drained()  # the chores index the turn as said when it began
        return [p for p in model.prompts if message_text(p[-1]) == text][-1]

    await say("novel", "Peux-tu me conseiller un roman sur la mer ?", days_ago=1)
    await say("hike", "오늘 등산 갈 만한 곳 있어요?", days_ago=1)
    await say("soup", "Wie koche ich Linsensuppe?", days_ago=3)

    yesterday = earlier_note(await say("q1", "De quoi avons-nous parlé hier ?"))
    assert "Le Phare d'Ouessant" in yesterday and "북한산" in yesterday
    assert yesterday.startswith("[hier, "), "the day is named as the user named it"
    assert "Linsensuppe" not in yesterday, "another day's conversation"
    korean = earlier_note(await say("q2", "어제 우리 무슨 얘기 했지?"))
    assert "북한산" in korean and "Linsensuppe" not in korean
    assert earlier_note(await say("q3", "Ich bin gestern umgezogen.")) == "", (
        "a statement that names a day shares nothing with that day's conversations"
    )
    unasked = earlier_note(await say("q4", "Tell me what we talked about yesterday"))
    assert "Le Phare" not in unasked and "북한산" not in unasked, (
        "no question mark: not a question about the day"
    )
