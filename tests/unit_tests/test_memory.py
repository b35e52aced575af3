"""Memory across conversations: grounding, parsing, superseding, learning and the prompt section.

No model runs here: the extraction's answers are written as a small model
gives them, and ``learn`` is handed an ``ask`` that answers from a script
keyed by the user's message. Names, places and facts come from lists that
appear in no prompt of the chatbot (``test_memory_names_are_in_no_prompt``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage
from langgraph.store.memory import InMemoryStore

from agent.conversation.prompts import (
    EXAMPLES_HEADING,
    MEMORY_BOUNDS,
    MEMORY_HEADING,
    NAME_EXAMPLE,
    UNKNOWN_EXAMPLE,
)
from agent.memory import extraction, keeper, learning, progress
from agent.memory.extraction import QUOTED, grounded, parse, worth_asking
from agent.memory.facts import Fact, memory_section, namespace
from agent.memory.topics import ALIASES, TOPICS, topic_of

KOREAN = "반가워요. 저는 민준이라고 해요. 전주에서 살고 있어요."
JAPANESE = "私の名前はさくらです。札幌に住んでいます。"
CHINESE = "我叫李婉清，住在洛阳。我养了一只猫叫豆豆。"
FRENCH = "Je m'appelle Hélène et j'habite à Besançon."
GERMAN = "Ich heiße Jürgen, wohne in Göttingen und bin allergisch gegen Erdnüsse."
SPANISH = "Me llamo Íñigo y vivo en Logroño."
ENGLISH = "I have a dog called Miso, I'm allergic to peanuts and my daughter is five."

USED_NAMES = {
    "민준",
    "전주",
    "부산",
    "서윤",
    "커피",
    "さくら",
    "札幌",
    "李婉清",
    "洛阳",
    "豆豆",
    "Hélène",
    "Besançon",
    "Jürgen",
    "Göttingen",
    "Íñigo",
    "Logroño",
    "Miso",
    "cello",
}
"""Names and places these tests use; none may appear in a prompt of the chatbot."""

INTEGRATION_NAMES = {"지유", "광주", "여수", "Maëlle", "Dinan", "Gévaudan", "ひまり", "モカ"}
"""Names, places and a pet's name ``tests/integration_tests/test_memory*.py`` use."""


def facts_in(answer: str, message: str) -> dict[str, str]:
    return {fact.topic: fact.text for fact in parse(answer, message)}


# Grounding: by characters, where words carry particles or are not separated.


@pytest.mark.parametrize(
    ("value", "message", "written"),
    [
        ("민준", KOREAN, "민준"),  # "민준이라고": a particle follows the name
        ("전주", KOREAN, "전주"),  # "전주에서"
        ("부산", "사실 지난달에 부산으로 이사했어", "부산"),
        ("札幌", JAPANESE, "札幌"),  # no spaces at all
        ("さくら", JAPANESE, "さくら"),
        ("洛阳", CHINESE, "洛阳"),
        ("豆豆", CHINESE, "豆豆"),
        ("Besancon", FRENCH, "Besançon"),  # the user's spelling, accents and all
        ("HÉLÈNE", FRENCH, "Hélène"),
        ("gottingen", GERMAN, "Göttingen"),
        ("allergisch gegen Erdnüsse", GERMAN, "allergisch gegen Erdnüsse"),
        ("Logroño", SPANISH, "Logroño"),
        ("iñigo", SPANISH, "Íñigo"),
        ("고양이 나비", "고양이 이름은 나비예요", "고양이 나비"),  # each word, as written
        ("Ｍｉｓｏ", ENGLISH, "Miso"),  # full-width letters fold too
    ],
)
def test_a_value_the_user_wrote_is_grounded_as_written(
    value: str, message: str, written: str
) -> None:
    assert grounded(value, message) == written


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Ana", "I love bananas."),  # inside a word of a spaced script
        ("Seoul", "서울에 살아요"),  # translated, not written
        ("서울", "부산에 살아요"),
        ("大阪", JAPANESE),
        ("Lyon", FRENCH),
        ("a", "I am a nurse."),  # too short to mean anything
        ("민준 서울", KOREAN),  # one word of it was never said
        ("", KOREAN),
    ],
)
def test_a_value_the_user_did_not_write_is_not_grounded(value: str, message: str) -> None:
    assert grounded(value, message) is None


# Parsing what a small model answers, in each language.


@pytest.mark.parametrize(
    ("answer", "message", "expected"),
    [
        ("name: 민준\nlocation: 전주", KOREAN, {"name": "민준", "location": "전주"}),
        (  # a particle or copula left on the value is trimmed
            "name: 민준이라고\nlocation: 전주에서",
            KOREAN,
            {"name": "민준", "location": "전주"},
        ),
        ("name: さくらです", JAPANESE, {"name": "さくら"}),
        ("name：さくら\nlocation：札幌", JAPANESE, {"name": "さくら", "location": "札幌"}),
        (
            "name: 李婉清\nlocation: 洛阳\npet: 豆豆",
            CHINESE,
            {"name": "李婉清", "location": "洛阳", "pet": "豆豆"},
        ),
        ("Name: Hélène\nCity: Besancon.", FRENCH, {"name": "Hélène", "location": "Besançon"}),
        (
            "- name: Jürgen\n- location: Göttingen\n- health: allergisch gegen Erdnüsse",
            GERMAN,
            {"name": "Jürgen", "location": "Göttingen", "health": "allergisch gegen Erdnüsse"},
        ),
        ('**name**: "Íñigo"\nlocation: Logroño', SPANISH, {"name": "Íñigo", "location": "Logroño"}),
        (
            "pet: dog called Miso\nhealth: allergic to peanuts\nfamily: daughter is five",
            ENGLISH,
            {
                "pet": "dog called Miso",
                "health": "allergic to peanuts",
                "family": "daughter is five",
            },
        ),
    ],
)
def test_parse_keeps_what_the_user_said_in_any_language(
    answer: str, message: str, expected: dict[str, str]
) -> None:
    assert facts_in(answer, message) == expected


def test_parse_drops_what_the_user_never_said() -> None:
    # The few-shot examples' facts, copied by a small model: none of it was said here.
    copied = "\n".join(noted for _said, noted in extraction.EXAMPLES)
    assert parse(copied, KOREAN) == []
    assert facts_in("name: 민준\nlocation: 서울\njob: 의사", KOREAN) == {"name": "민준"}
    assert parse("none", "오늘 날씨 좋네요.") == []
    assert parse("Sure! Here are the facts you asked for:\n\nnone", ENGLISH) == []
    assert parse("", KOREAN) == []
    assert parse("name: none\nlocation: unknown\npet: -", "Unknown pets: none.") == []


def test_a_copied_message_or_a_value_given_twice_is_not_a_fact() -> None:
    moved = "其实我上周搬到了洛阳。"
    assert facts_in("location: 洛阳\nhealth: 其实我上周搬到了洛阳", moved) == {"location": "洛阳"}
    # Alone, the whole message may be the fact.
    allergic = "Soy alérgica a las nueces."
    assert facts_in("health: soy alérgica a las nueces", allergic) == {"health": allergic[:-1]}
    said = "En fait, j'ai déménagé à Besançon."
    assert facts_in("location: Besançon\ndislikes: Besançon", said) == {"location": "Besançon"}
    # A short name is not trimmed to nothing: "하은" ends like a particle.
    assert facts_in("name: 하은", "저는 하은입니다.") == {"name": "하은"}


# Only what the user says about themselves: requests, quotes, stories and others save nothing.

QUOTED_REQUESTS = [
    # What the 1.5B default answered for such requests before quotes were looked at.
    ("이 메시지를 영어로 번역해 줘: '저는 민준이고 전주에 살아요.'", "name: 민준\nlocation: 전주"),
    ("「私はさくらで、札幌に住んでいます」を要約してください。", "name: さくら\nlocation: 札幌"),
    ("Traduis en espagnol : « Je m'appelle Hélène et j'habite à Besançon. »", "name: Hélène"),
    ("Übersetze: „Ich heiße Jürgen und wohne in Göttingen.“", "name: Jürgen"),
    ("Summarize this: 'Hi, it's Íñigo from Logroño, I'll call back.'", "name: Íñigo"),
]


@pytest.mark.parametrize(("message", "answer"), QUOTED_REQUESTS)
def test_a_fact_found_only_in_a_passage_the_user_quotes_is_not_theirs(
    message: str, answer: str
) -> None:
    assert parse(answer, message) == []


def test_a_quoted_name_alone_and_a_statement_beside_a_quote_are_kept() -> None:
    assert facts_in('pet: "Miso"', 'My dog is called "Miso".') == {"pet": "Miso"}
    assert facts_in("name: 「さくら」", "私の名前は「さくら」です。") == {"name": "さくら"}
    said = "Je m'appelle Hélène. Traduis « bonne nuit » en coréen."
    assert facts_in("name: Hélène", said) == {"name": "Hélène"}


def test_the_extraction_prompt_shows_what_saves_nothing_in_several_scripts() -> None:
    """The model decides (no word list does), taught by examples a request, a quote and
    other people's facts answered ``none``, in kana and Latin, beside statements in Hangul,
    kana and Latin, so one script is not read as "about the user" and another not."""
    quiet = [said for said, noted in extraction.EXAMPLES if noted == "none"]
    stated = [said for said, noted in extraction.EXAMPLES if noted != "none"]
    assert any(QUOTED.search(said) for said in quiet)
    for script in (r"[\u3040-\u30ff]", r"[A-Za-z]"):
        assert any(re.search(script, said) for said in quiet)
    for script in (r"[\uac00-\ud7a3]", r"[\u3040-\u30ff]", r"[A-Za-z]"):
        assert any(re.search(script, said) for said in stated)
    for kind in ("requests", "quoted", "stories", "other people"):
        assert kind in extraction.INSTRUCTIONS


def test_a_topic_outside_the_table_is_kept_and_aliases_map_to_the_table() -> None:
    assert facts_in("instrument: cello", "I play the cello every evening.") == {
        "instrument": "cello"
    }
    assert facts_in("City: Besançon\nhobby: théâtre", FRENCH + " J'adore le théâtre.") == {
        "location": "Besançon",
        "likes": "théâtre",
    }
    # A rambling "topic" is not one.
    assert parse("the user says that they live in: Besançon", FRENCH) == []


def test_a_multi_valued_topic_takes_every_value_a_single_valued_one_the_first() -> None:
    said = "Me encantan el jazz y el ajedrez. Me llamo Íñigo."
    facts = parse("likes: jazz, ajedrez\nname: Íñigo\nname: jazz", said)
    assert [(f.topic, f.text) for f in facts] == [
        ("likes", "jazz"),
        ("likes", "ajedrez"),
        ("name", "Íñigo"),
    ]


@pytest.mark.parametrize(
    "message",
    [
        "Tokyo is big.",  # no English pronoun decides anything: the model reads it
        "저는 민준이에요.",
        "札幌に住んでいます。",
        "住在洛阳。",
        "Actually I moved to Logroño. Is it nice?",
        "J'habite à Besançon. Et toi ?",
    ],
)
def test_any_statement_is_worth_asking(message: str) -> None:
    assert worth_asking(message)


@pytest.mark.parametrize(
    "message",
    [
        "내 이름이 뭐야?",
        "私の名前は何ですか？",
        "Où est-ce que j'habite ?",
        "¿Dónde vivo?",
        "ok",
        "네",
        "",
        "  ",
    ],
)
def test_questions_only_and_messages_too_short_are_not_asked(message: str) -> None:
    assert not worth_asking(message)


# The topics table: one place, every part reads it.


def test_every_alias_names_a_topic_of_the_table_and_the_prompt_names_every_topic() -> None:
    assert set(ALIASES.values()) <= set(TOPICS)
    for topic in TOPICS:
        assert topic in extraction.INSTRUCTIONS
    for row in TOPICS.values():
        assert row.opposite in ("", *TOPICS)
        assert row.label and "\n" not in row.label


def test_every_worked_example_parses_to_exactly_its_own_lines() -> None:
    """An example the parser would not keep teaches the model something it must not do."""
    for said, noted in extraction.EXAMPLES:
        lines = [] if noted == "none" else noted.splitlines()
        assert [f"{f.topic}: {f.text}" for f in parse(noted, said)] == lines


def test_old_kind_items_read_as_facts_of_that_topic() -> None:
    fact = Fact.from_value({"kind": "location", "text": "Besançon", "thread_id": "t"}, "location")
    assert fact == Fact("location", "Besançon", thread_id="t", key="location")
    assert Fact.from_value({"kind": "name", "text": "  "}) is None
    assert Fact.from_value({"text": "no topic"}) is None
    assert topic_of("Lives In") == TOPICS["location"]


# Learning from a thread: superseding, adding, editing away, catching up.


class ScriptedAsk:
    """An ``ask`` that answers each message from ``answers`` and counts its calls."""

    def __init__(self, answers: dict[str, str], failing: bool = False) -> None:
        self.answers = answers
        self.failing = failing
        self.asked: list[str] = []

    async def __call__(self, prompt: list[BaseMessage]) -> str:
        said = str(prompt[-1].content).removeprefix(extraction.MESSAGE_PREFIX)
        self.asked.append(said)
        if self.failing:
            raise RuntimeError("the model is down")
        return self.answers.get(said, "none")


def thread_of(*texts: str) -> list[AnyMessage]:
    """A thread where the user said ``texts`` (ids h0, h1, ...), each answered."""
    messages: list[AnyMessage] = []
    for number, text in enumerate(texts):
        messages += [HumanMessage(text, id=f"h{number}"), AIMessage("…", id=f"a{number}")]
    return messages


Learn = Callable[..., Awaitable[list[Fact]]]


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


async def remembered(store: InMemoryStore, user: str = "u1") -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for fact in await keeper.recall(store, user):
        found.setdefault(fact.topic, []).append(fact.text)
    return found


async def test_a_fact_is_learnt_once_with_where_it_was_said(store: InMemoryStore) -> None:
    ask = ScriptedAsk({KOREAN: "name: 민준\nlocation: 전주"})
    saved = await learning.learn(store, "u1", "t1", thread_of(KOREAN), ask)
    assert [(f.topic, f.text, f.thread_id, f.message_id) for f in saved] == [
        ("name", "민준", "t1", "h0"),
        ("location", "전주", "t1", "h0"),
    ]
    assert all(f.updated_at and f.said_at and f.position == 0 for f in saved)
    # No copy of the message: forgetting one fact leaves no trace of it in another.
    assert all("said" not in item.value for item in await store.asearch(namespace("u1")))
    # Nothing is done twice: the same branch again asks nothing and saves nothing.
    assert await learning.learn(store, "u1", "t1", thread_of(KOREAN), ask) == []
    assert ask.asked == [KOREAN]
    assert await remembered(store) == {"name": ["민준"], "location": ["전주"]}
    assert await remembered(store, "u2") == {}


async def test_requests_quoting_someone_save_nothing_and_the_users_own_words_are_saved(
    store: InMemoryStore,
) -> None:
    """A model that names the facts of a quoted passage (as the default did) saves nothing."""
    requests = dict(QUOTED_REQUESTS[:3])
    ask = ScriptedAsk({**requests, KOREAN: "name: 민준\nlocation: 전주"})
    await learning.learn(store, "u1", "t1", thread_of(*requests), ask)
    assert await remembered(store) == {}
    await learning.learn(store, "u1", "t1", thread_of(*requests, KOREAN), ask)
    assert await remembered(store) == {"name": ["민준"], "location": ["전주"]}


async def test_a_move_replaces_the_home_and_a_new_name_the_name(store: InMemoryStore) -> None:
    moved = "사실 지난달에 부산으로 이사했어"
    renamed = "이제부터 서윤이라고 불러 줘."
    ask = ScriptedAsk(
        {KOREAN: "name: 민준\nlocation: 전주", moved: "location: 부산", renamed: "name: 서윤"}
    )
    await learning.learn(store, "u1", "t1", thread_of(KOREAN), ask)
    await learning.learn(store, "u1", "t2", thread_of(moved), ask)
    assert await remembered(store) == {"name": ["민준"], "location": ["부산"]}
    await learning.learn(store, "u1", "t3", thread_of(renamed), ask)
    assert await remembered(store) == {"name": ["서윤"], "location": ["부산"]}
    assert len(await store.asearch(namespace("u1"))) == 2


async def test_a_second_like_adds_and_saying_one_again_changes_nothing(
    store: InMemoryStore,
) -> None:
    first, second = "J'adore le théâtre.", "J'aime aussi le jazz."
    ask = ScriptedAsk({first: "likes: théâtre", second: "likes: jazz\nlikes: théâtre"})
    await learning.learn(store, "u1", "t1", thread_of(first), ask)
    await learning.learn(store, "u1", "t2", thread_of(second), ask)
    assert sorted((await remembered(store))["likes"]) == ["jazz", "théâtre"]
    assert len(await store.asearch(namespace("u1"))) == 2


async def test_a_dislike_retracts_the_like_of_the_same_thing(store: InMemoryStore) -> None:
    likes, dislikes = "커피를 좋아해요.", "요즘은 커피가 싫어요."
    ask = ScriptedAsk({likes: "likes: 커피", dislikes: "dislikes: 커피"})
    await learning.learn(store, "u1", "t1", thread_of(likes), ask)
    await learning.learn(store, "u1", "t1", thread_of(likes, dislikes), ask)
    assert await remembered(store) == {"dislikes": ["커피"]}


async def test_an_edited_message_takes_its_facts_along(store: InMemoryStore) -> None:
    ask = ScriptedAsk({JAPANESE: "name: さくら\nlocation: 札幌", CHINESE: "pet: 豆豆"})
    await learning.learn(store, "u1", "t1", thread_of("こんにちは。", JAPANESE), ask)
    assert await remembered(store) == {"name": ["さくら"], "location": ["札幌"]}
    # The second message edited: the branch holds the first and a new one in its place.
    branch = [*thread_of("こんにちは。"), HumanMessage(CHINESE, id="edited")]
    await learning.learn(store, "u1", "t1", branch, ask)
    assert await remembered(store) == {"pet": ["豆豆"]}


async def test_an_edit_keeps_what_a_later_message_or_the_user_set(store: InMemoryStore) -> None:
    moved = "사실 지난달에 부산으로 이사했어"
    ask = ScriptedAsk({KOREAN: "name: 민준\nlocation: 전주", moved: "location: 부산"})
    await learning.learn(store, "u1", "t1", thread_of(KOREAN), ask)
    await learning.learn(store, "u2", "t1", thread_of(KOREAN), ask)
    await learning.learn(store, "u1", "t2", thread_of(moved), ask)
    await keeper.correct(store, "u2", "name", "민준호")
    # The first message of t1 is edited away: its home was superseded since, its name stays
    # only where the user corrected it.
    await learning.learn(store, "u1", "t1", [HumanMessage("안녕", id="other")], ask)
    await learning.learn(store, "u2", "t1", [HumanMessage("안녕", id="other")], ask)
    assert await remembered(store) == {"location": ["부산"]}
    assert await remembered(store, "u2") == {"name": ["민준호"]}


async def test_a_crashed_turn_is_caught_up_at_most_three_messages_back(
    store: InMemoryStore,
) -> None:
    said = ["Je m'appelle Hélène.", "Bonjour !!!", FRENCH, GERMAN, SPANISH]
    ask = ScriptedAsk({GERMAN: "location: Göttingen", SPANISH: "name: Íñigo"})
    saved = await learning.learn(store, "u1", "t1", thread_of(*said), ask)
    assert ask.asked == [FRENCH, GERMAN, SPANISH]
    assert [f.text for f in saved] == ["Göttingen", "Íñigo"]


async def test_a_failing_model_leaves_the_message_for_the_next_turn(store: InMemoryStore) -> None:
    ask = ScriptedAsk({SPANISH: "name: Íñigo"}, failing=True)
    assert await learning.learn(store, "u1", "t1", thread_of(SPANISH), ask) == []
    ask.failing = False
    saved = await learning.learn(store, "u1", "t1", thread_of(SPANISH), ask)
    assert [f.text for f in saved] == ["Íñigo"]
    assert ask.asked == [SPANISH, SPANISH]


async def test_a_bad_answer_saves_nothing_and_questions_are_not_asked(
    store: InMemoryStore,
) -> None:
    ask = ScriptedAsk({FRENCH: '```json\n{"name": "Pierre"}\n```\nlocation: Paris, Lyon'})
    said = thread_of(FRENCH, "Où est-ce que j'habite ?")
    assert await learning.learn(store, "u1", "t1", said, ask) == []
    assert ask.asked == [FRENCH]
    assert await remembered(store) == {}


async def test_a_damaged_progress_marker_is_read_as_nothing_read(store: InMemoryStore) -> None:
    old_marker = {"read": None, "facts": ["not", "a", "map"]}
    await store.aput(progress.legacy_namespace("u1"), "t1", old_marker)
    ask = ScriptedAsk({SPANISH: "name: Íñigo"})
    assert [f.text for f in await learning.learn(store, "u1", "t1", thread_of(SPANISH), ask)] == [
        "Íñigo"
    ]


async def test_deleting_a_thread_forgets_its_facts_and_progress(store: InMemoryStore) -> None:
    ask = ScriptedAsk({KOREAN: "name: 민준", CHINESE: "location: 洛阳"})
    await learning.learn(store, "u1", "doomed", thread_of(KOREAN), ask)
    await learning.learn(store, "u1", "kept", thread_of(CHINESE), ask)
    assert await keeper.forget_thread(store, "u1", "doomed") == ["name"]
    assert await remembered(store) == {"location": ["洛阳"]}
    assert await progress.read(store, "u1", "doomed", ["h0"]) == {}
    assert await progress.read(store, "u1", "kept", ["h0"]) != {}


async def test_old_items_read_and_are_superseded_by_new_facts(store: InMemoryStore) -> None:
    ns = namespace("u1")
    await store.aput(ns, "location", {"kind": "location", "text": "Besançon"})
    await store.aput(ns, "likes", {"kind": "likes", "text": "jazz", "thread_id": "old"})
    assert await remembered(store) == {"location": ["Besançon"], "likes": ["jazz"]}
    said = "J'habite à Logroño maintenant et j'aime le jazz et le théâtre."
    ask = ScriptedAsk({said: "location: Logroño\nlikes: jazz, théâtre"})
    await learning.learn(store, "u1", "t1", thread_of(said), ask)
    assert await remembered(store) == {"location": ["Logroño"], "likes": ["jazz", "théâtre"]}
    assert len(await store.asearch(ns)) == 3


async def test_forget_one_key_or_everything(store: InMemoryStore) -> None:
    ask = ScriptedAsk({CHINESE: "name: 李婉清\nlocation: 洛阳\npet: 豆豆"})
    saved = await learning.learn(store, "u1", "t1", thread_of(CHINESE), ask)
    pet = next(f.key for f in saved if f.topic == "pet")
    assert await keeper.forget(store, "u1", pet) == [pet]
    assert await remembered(store) == {"name": ["李婉清"], "location": ["洛阳"]}
    assert sorted(await keeper.forget(store, "u1")) == ["location", "name"]
    assert await remembered(store) == {}


# What reaches the prompt: within its share, most relevant first.


def approximate(text: str) -> int:
    return len(text) // 4 + 1


def test_identity_first_then_what_the_message_is_about_then_the_newest() -> None:
    facts = [
        Fact("likes", "jazz", updated_at="2026-12-01T10:00:00+00:00"),
        Fact("pet", "豆豆", updated_at="2026-11-01T10:00:00+00:00"),
        Fact("plans", "여행", updated_at="2026-12-02T10:00:00+00:00"),
        Fact("name", "李婉清", updated_at="2026-10-01T10:00:00+00:00"),
    ]
    # Relevance reads the fact's own value (a fact keeps no copy of its message).
    section, kept = memory_section(facts, 1000, approximate, relevant_to="豆豆今天吃了什么？")
    assert [f.text for f in kept] == ["李婉清", "豆豆", "여행", "jazz"]
    # Stated in the topics' order, so that the prompt's start does not move with each message.
    assert section.splitlines() == [
        MEMORY_HEADING,
        "- name: 李婉清",
        "- pet: 豆豆",
        "- likes: jazz",
        "- plans: 여행",
        MEMORY_BOUNDS,
        EXAMPLES_HEADING,
        NAME_EXAMPLE.format(name="李婉清"),
        UNKNOWN_EXAMPLE,
    ]
    other, _ = memory_section(facts, 1000, approximate, relevant_to="Tu aimes le jazz ?")
    assert other == section, "what fits is stated the same whatever the newest message says"


def test_facts_that_do_not_fit_are_left_out_whole_and_shorter_ones_still_fit() -> None:
    facts = [
        Fact("name", "Hélène"),
        Fact("likes", "théâtre " * 40, updated_at="2026-12-02"),
        Fact("instrument", "cello", updated_at="2026-12-01"),
    ]
    budget = approximate(
        f"{MEMORY_HEADING}\n- name: Hélène\n- instrument: cello\n{MEMORY_BOUNDS}\n"
        f"{EXAMPLES_HEADING}\n{NAME_EXAMPLE.format(name='Hélène')}\n{UNKNOWN_EXAMPLE}"
    )
    section, kept = memory_section(facts, budget, approximate, relevant_to="What do I play?")
    assert [f.topic for f in kept] == ["name", "instrument"]
    assert approximate(section) <= budget and "théâtre" not in section
    assert memory_section([], 100, approximate) == ("", [])
    assert memory_section(facts, 1, approximate) == ("", [])


def test_memory_names_are_in_no_prompt() -> None:
    """Recall tested with names a prompt holds would be the prompt's recall, not the user's.

    The multilingual bench's people, places and facts are also in no test or
    other bench; Korean and Japanese are looked for inside words (no spaces there).
    """
    from bench.memory_quality import PEOPLE, STATEMENTS
    from bench.multilingual import PEOPLE as TUNING
    from bench.multilingual_held_out import HELD_OUT

    multilingual = [*TUNING, *(person for people in HELD_OUT.values() for person in people)]

    root = Path(__file__).resolve().parents[2]
    source = root / "src" / "agent"
    prompts = " ".join(
        path.read_text()
        for folder in ("conversation", "models", "memory")
        for path in (source / folder).rglob("*.py")
    ).casefold()
    used = {"Zanele", "Windhoek", "Swakopmund", "Ikaika", "Hilo", "Etosha", "rooibos"}
    used |= USED_NAMES | INTEGRATION_NAMES
    used |= {word for said in STATEMENTS.values() for _s, facts in said for _t, word in facts}
    used |= {word for name, home, moved, _hobby in PEOPLE for word in (name, home, moved)}
    own = {
        word
        for person in multilingual
        for word in (person.name, person.city, person.moved, person.fact_answers[0])
        if not any(answer.isdigit() for answer in person.fact_answers)  # ages: common words
        or word != person.fact_answers[0]
    }

    def found_in(text: str, words: set[str]) -> set[str]:
        return {
            word
            for word in words
            if (re.search(rf"\b{re.escape(word.casefold())}\b", text) if word.isascii() else None)
            or (not word.isascii() and word.casefold() in text)
        }

    found = found_in(prompts, used | own)
    assert not found, f"names used by tests or the bench appear in the chatbot's prompts: {found}"
    others = " ".join(
        path.read_text()
        for folder in ("src", "tests", "bench")
        for path in (root / folder).rglob("*.py")
        if path.name not in ("multilingual.py", "multilingual_held_out.py")
    ).casefold()
    found = found_in(others, own)
    assert not found, f"the multilingual bench's people appear in other code or tests: {found}"
