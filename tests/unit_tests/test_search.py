"""Search over a user's conversations, on SQLite and on the machine's PostgreSQL.

Every test that touches storage runs on both backends (``index`` is parametrized):
what a user finds in Korean, Japanese and accented Latin (two-character words
with particles attached included), that only their own conversations answer,
that an abandoned branch and a deleted conversation are never found again, and
that a bad query says what was wrong.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from agent import LOCAL_USER, chore_health, housekeeping
from agent.conversation.context import Context
from agent.graph import build_graph
from agent.server.search_backfill import backfill
from agent.storage import search
from agent.storage.checkpointer import PostgresSaver, SqliteSaver
from agent.storage.search import (
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    Entry,
    Query,
    QueryError,
    SearchIndex,
    SqliteSearchIndex,
    index_for,
    parse_query,
    snippet,
)
from agent.testing.fake_chat_model import RecordingChatModel
from agent.testing.turns import user

ALICE, BOB = "alice", "bob"


@pytest.fixture(autouse=True)
def no_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("POSTGRES_URI", "DATABASE_URI", "CHATBOT_DB_SCHEMA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHATBOT_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def index(saver: SqliteSaver | PostgresSaver) -> SearchIndex:
    index = index_for(saver)
    assert index is not None
    return index


async def saved(saver: SqliteSaver | PostgresSaver, thread_id: str) -> None:
    """Give the thread a checkpoint: the index keeps rows only for threads the saver has."""
    config: RunnableConfig = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
    await saver.aput(config, empty_checkpoint(), {"source": "input", "step": -1}, {})


def said(*texts: str, prefix: str = "m") -> list[Entry]:
    """A branch: user and assistant taking turns, ids ``{prefix}0``, ``{prefix}1``, ..."""
    roles = ("user", "assistant")
    return [Entry(f"{prefix}{n}", roles[n % 2], text) for n, text in enumerate(texts)]


async def found(index: SearchIndex, words: str, user: str | None = ALICE) -> list[str]:
    """The ids of the messages a search finds, newest first."""
    return [hit.message_id for hit in await index.search(parse_query(words), user)]


async def test_words_in_any_script_are_found_with_particles_attached_and_two_characters_long(
    saver: SqliteSaver | PostgresSaver, index: SearchIndex
) -> None:
    await saved(saver, "t1")
    await index.update(
        ALICE,
        "t1",
        said(
            "저는 서울에서 살아요. 고양이를 키워요.",
            "서울은 멋진 도시예요!",
            "東京に住んでいます。猫アレルギーがあります。",
            "東京はいいですね。",
            "Je m'appelle Hélène et j'habite à Genève.",
            "Enchanté, Hélène !",
        ),
    )
    assert await found(index, "서울") == ["m1", "m0"]  # two syllables, 에서 and 은 attached
    assert await found(index, "고양이") == ["m0"]
    assert await found(index, "東京") == ["m3", "m2"]  # two characters, に and は attached
    assert await found(index, "アレルギー") == ["m2"]
    assert await found(index, "hélène") == ["m5", "m4"]  # any case
    decomposed = unicodedata.normalize("NFD", "Genève")  # é typed as e + accent
    assert await found(index, decomposed) == ["m4"]
    assert await found(index, "서울 고양이") == ["m0"]  # every word, in one message
    assert await found(index, "Hélène Genève") == ["m4"]
    assert await found(index, "부산") == []


async def test_a_hit_says_where_it_is_with_a_plain_snippet_and_the_conversation_title(
    saver: SqliteSaver | PostgresSaver, index: SearchIndex
) -> None:
    await saved(saver, "t1")
    long_reply = "가" * 300 + " 제주도 <b>여행</b> " + "나" * 300
    await index.update(
        ALICE, "t1", said("제주도에 가고 싶어요", long_reply), "2026-12-07T06:00:00+00:00"
    )
    (hit,) = await index.search(parse_query("여행"), ALICE)
    assert (hit.thread_id, hit.message_id, hit.role) == ("t1", "m1", "assistant")
    assert hit.title == "제주도에 가고 싶어요"
    assert "제주도 <b>여행</b>" in hit.snippet  # as written: the page shows it as text
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert len(hit.snippet) < 200
    assert hit.at.startswith("2026-12-07T06:00:00")


async def test_only_the_callers_conversations_are_searched(
    saver: SqliteSaver | PostgresSaver, index: SearchIndex
) -> None:
    await saved(saver, "alice-thread")
    await saved(saver, "bob-thread")
    await index.update(
        ALICE,
        "alice-thread",
        said("私の犬はポチです"),
    )
    await index.update(BOB, "bob-thread", said("私の犬はタロです", prefix="b"))
    assert await found(index, "犬", ALICE) == ["m0"]
    assert await found(index, "私の犬", BOB) == ["b0"]
    assert sorted(await found(index, "私の犬", None)) == ["b0", "m0"]  # auth off: one user


async def test_an_abandoned_branch_is_not_found_once_the_thread_is_indexed_again(
    saver: SqliteSaver | PostgresSaver, index: SearchIndex
) -> None:
    await saved(saver, "t1")
    first = said("I live in Lisboa", "Lisboa is lovely")
    await index.update(ALICE, "t1", first)
    edited = [first[0], Entry("m9", "user", "Actually I live in Porto")]
    assert await index.update(ALICE, "t1", edited) == 1
    assert await found(index, "Lisboa") == ["m0"]  # the reply on the old branch is gone
    assert await found(index, "Porto") == ["m9"]
    assert await index.update(ALICE, "t1", edited) == 0  # nothing new: nothing written


async def test_a_deleted_conversation_is_never_found_again(
    saver: SqliteSaver | PostgresSaver, index: SearchIndex
) -> None:
    await saved(saver, "gone")
    await saved(saver, "kept")
    await index.update(ALICE, "gone", said("비밀 일기: 화요일", prefix="g"))
    await index.update(ALICE, "kept", said("평범한 일기: 화요일", prefix="k"))
    await saver.adelete_thread("gone")
    assert await found(index, "일기") == ["k0"]  # its rows linger, yet never answer
    assert await index.update(ALICE, "gone", said("비밀 일기: 수요일", prefix="g")) == 0
    await index.forget_thread("kept")
    assert await found(index, "일기") == []
    sizes = await index.size()
    assert sizes["text"] == 0  # no row is left behind


async def test_newest_first_and_no_more_than_the_limit(
    saver: SqliteSaver | PostgresSaver, index: SearchIndex
) -> None:
    for n in range(5):
        await saved(saver, f"t{n}")
        await index.update(ALICE, f"t{n}", said(f"café numéro {n}", prefix=f"t{n}-"))
    hits = await index.search(parse_query("CAFÉ", limit=3), ALICE)
    assert [hit.thread_id for hit in hits] == ["t4", "t3", "t2"]


async def test_characters_special_to_the_query_languages_are_taken_literally(
    saver: SqliteSaver | PostgresSaver, index: SearchIndex
) -> None:
    await saved(saver, "t1")
    await index.update(ALICE, "t1", said('50% off "today"', "a_b", "plain text", "back\\slash"))
    assert await found(index, "50%") == ["m0"]
    assert await found(index, '"today"') == ["m0"]
    assert await found(index, "_") == ["m1"]
    assert await found(index, "%") == ["m0"]
    assert await found(index, "\\") == ["m3"]
    assert await found(index, "OR") == []
    assert await found(index, "NEAR(") == []


def test_a_query_is_checked_and_a_bad_one_says_what_to_send() -> None:
    assert parse_query("  서울   東京 서울 ") == Query(("서울", "東京"), 20)
    assert parse_query("x", "7").limit == 7
    for empty in ("", "   ", None, 3):
        with pytest.raises(QueryError, match="empty"):
            parse_query(empty)
    with pytest.raises(QueryError, match=f"the most is {MAX_QUERY_CHARS}"):
        parse_query("가" * (MAX_QUERY_CHARS + 1))
    with pytest.raises(QueryError, match=f"the most is {MAX_TERMS}"):
        parse_query(" ".join(f"w{n}" for n in range(MAX_TERMS + 1)))
    with pytest.raises(QueryError, match="control characters"):
        parse_query("abc\x00def")
    for limit in ("0", "-1", str(MAX_LIMIT + 1), "ten", "2.5", True):
        with pytest.raises(QueryError, match=f"from 1 to {MAX_LIMIT}"):
            parse_query("x", limit)


def test_a_snippet_is_around_the_first_match_on_one_line() -> None:
    text = "intro\n\n" + "x " * 200 + "the Pelican here " + "y " * 200
    shown = snippet(text, ["pelican"], width=60)
    assert "Pelican" in shown and "\n" not in shown
    assert shown.startswith("…") and shown.endswith("…")
    assert snippet("short", ["nothing"]) == "short"


async def test_the_chores_index_each_reply_and_drop_an_edited_branch(
    saver: SqliteSaver | PostgresSaver, index: SearchIndex, fake_model: RecordingChatModel
) -> None:
    graph = build_graph(lambda _context: fake_model).compile(checkpointer=saver)
    config: RunnableConfig = {"configurable": {"thread_id": "t1"}}
    await graph.ainvoke(user("Ich wohne in München."), config)
    await graph.ainvoke(user("Mein Hund heißt Bello."), config)
    await housekeeping.drained()
    assert len(await index.search(parse_query("München"), LOCAL_USER)) == 1
    (bello,) = await index.search(parse_query("bello"), LOCAL_USER)
    assert (bello.thread_id, bello.role, bello.title) == ("t1", "user", "Ich wohne in München.")
    assert await index.search(parse_query("München"), "someone else") == []

    # An edit of the second message: a run from the checkpoint before it.
    history = [state async for state in graph.aget_state_history(config)]
    before = next(s for s in history if len(s.values.get("messages", [])) == 2 and not s.next)
    await graph.ainvoke(user("Meine Katze heißt Mimi."), before.config)
    await housekeeping.drained()
    assert await index.search(parse_query("Bello"), LOCAL_USER) == []
    assert len(await index.search(parse_query("Mimi"), LOCAL_USER)) == 1
    assert len(await index.search(parse_query("München"), LOCAL_USER)) == 1


class BrokenIndex(SqliteSearchIndex):
    """An index whose writes fail, as a database that refuses them would."""

    async def update(
        self, user_id: str, thread_id: str, entries: Sequence[Entry], at: str | None = None
    ) -> int:
        raise RuntimeError("disk I/O error")


async def test_a_failing_index_is_reported_and_the_other_chores_still_run(
    monkeypatch: pytest.MonkeyPatch, fake_model: RecordingChatModel
) -> None:
    monkeypatch.setattr(search, "open_index", lambda: BrokenIndex(None, asyncio.Lock()))
    chore_health.forget()
    graph = build_graph(lambda _context: fake_model).compile(
        checkpointer=InMemorySaver(), store=InMemoryStore()
    )
    config: RunnableConfig = {"configurable": {"thread_id": "t1"}}
    await graph.ainvoke(user("Je m'appelle Hélène."), config, context=Context(remember=True))
    await housekeeping.drained()
    record = chore_health.report()["chores"]["search index"]
    assert record["failures_in_a_row"] == 1 and "disk I/O error" in str(record["last_error"])
    assert len(fake_model.prompts) == 2, "the reply, then memory's extraction: learning still ran"
    chore_health.forget()


async def test_conversations_older_than_the_index_are_indexed_at_start(
    saver: SqliteSaver | PostgresSaver,
    index: SearchIndex,
    fake_model: RecordingChatModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    graph = build_graph(lambda _context: fake_model).compile(checkpointer=saver)
    with monkeypatch.context() as before_the_index:
        before_the_index.setattr(search, "open_index", lambda: None)  # the chores index nothing
        config: RunnableConfig = {
            "configurable": {"thread_id": "old", "langgraph_auth_user_id": "ana"},
            "metadata": {"langgraph_auth_user_id": "ana"},
        }
        await graph.ainvoke(user("Mi perro se llama Toby y vive en Málaga."), config)
        await housekeeping.drained()
    assert await index.search(parse_query("Toby"), "ana") == []
    assert await backfill(saver, graph) == 1
    (hit,) = await index.search(parse_query("málaga"), "ana")
    assert (hit.thread_id, hit.role) == ("old", "user")
    assert await index.search(parse_query("Toby"), "someone else") == []
    assert await backfill(saver, graph) == 0  # indexed once: the next start reads nothing
