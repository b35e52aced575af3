"""The conversation recall bench's data (issue 30), and its judges, without a model or a server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.conversation_recall import (
    DELETED,
    KINDS,
    LANGUAGES,
    Language,
    Person,
    Tally,
    day_answers,
    earlier_conversations,
    fill,
    invented,
    judge,
    names,
    questions,
    says_it_does_not_remember,
    table,
)
from bench.conversation_recall_held_out import HELD_OUT

ROOT = Path(__file__).resolve().parents[2]

EVERYONE = [
    (language, person)
    for language in LANGUAGES
    for person in (*language.people, *HELD_OUT[language.code])
]
"""Every person of both sets, with their language."""


def own_words(person: Person) -> tuple[str, ...]:
    """Return the values of a person no other file of the project may hold."""
    return (
        person.name,
        person.thing_key,
        person.title_key,
        person.place,
        person.dish_key,
        person.ingredient,
        person.plant,
        person.never,
    )


def test_six_languages_four_tuning_and_two_held_out_people_each() -> None:
    assert [language.code for language in LANGUAGES] == ["ko", "ja", "fr", "es", "de", "en"]
    assert set(HELD_OUT) == {language.code for language in LANGUAGES}
    for language in LANGUAGES:
        assert len(language.people) == 4, language.name
        assert len(HELD_OUT[language.code]) == 2, language.name


def test_every_person_has_the_conversations_and_the_questions() -> None:
    for language, person in EVERYONE:
        earlier = earlier_conversations(language, person)
        assert [e.kind for e in earlier] == [*KINDS, DELETED]
        for conversation in earlier:
            assert [role for role, _ in conversation.messages] == ["user", "assistant"]
            assert all(text and "{" not in text for _, text in conversation.messages)
            said = " ".join(text for _, text in conversation.messages)
            assert conversation.probe in said, (person.name, conversation.kind)
        other = language.people[0] if person is not language.people[0] else language.people[1]
        asked = questions(language, person, other)
        assert [q.kind for q in asked] == [*KINDS, "deleted", "never", "other_user"]
        for question in asked:
            assert question.text and "{" not in question.text, question
        expected = {q.kind: q.answers for q in asked}
        texts = {e.kind: " ".join(t for _, t in e.messages) for e in earlier}
        # What must be recalled is in its conversation, and not given away by the question.
        for kind in (*KINDS, "deleted"):
            source = texts[DELETED if kind == "deleted" else kind]
            assert names(source, expected[kind]), (person.name, kind)
            question = next(q for q in asked if q.kind == kind)
            assert not names(question.text, expected[kind]), (person.name, kind)
        # Never happened: the place is in none of the person's conversations.
        assert all(person.never not in text for text in texts.values())
        assert expected["other_user"] == day_answers(language.code, other.day)


def test_every_question_shares_a_word_with_its_conversation() -> None:
    """Keyword retrieval is possible: the docstring's word is in the question and the talk."""
    for language, person in EVERYONE:
        earlier = {e.kind: e for e in earlier_conversations(language, person)}
        asked = {q.kind: q for q in questions(language, person, person)}
        for kind in (*KINDS, DELETED):
            word = fill(language.shared.get(kind, "{place}"), language, person)
            said = " ".join(text for _, text in earlier[kind].messages)
            question = asked["deleted" if kind == DELETED else kind].text
            assert word.casefold() in said.casefold(), (person.name, kind, word)
            assert word.casefold() in question.casefold(), (person.name, kind, word)


def test_names_and_values_are_unique_and_in_no_other_file() -> None:
    """A value found elsewhere would be recalled from there (a prompt) or mix two benches."""
    words = [word for _language, person in EVERYONE for word in own_words(person)]
    assert len(words) == len(set(words)), "a value is used twice"
    others = {
        path: path.read_text(errors="ignore").casefold()
        for folder in ("src", "tests", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if not path.name.startswith("conversation_recall") and path.name != Path(__file__).name
    }

    def found(word: str, text: str) -> bool:
        folded = word.casefold()
        if all(ord(c) < 0x2E80 for c in word):  # Latin script: whole words
            return re.search(rf"(?<!\w){re.escape(folded)}(?!\w)", text) is not None
        return folded in text  # Korean and Japanese: inside words too

    clashes = {
        (word, str(path.relative_to(ROOT)))
        for word in words
        for path, text in others.items()
        if found(word, text)
    }
    assert not clashes, f"the recall bench's values appear elsewhere: {sorted(clashes)}"


@pytest.mark.parametrize(
    ("reply", "answers", "expected"),
    [
        ("5월 17일에 가신다고 하셨어요.", day_answers("ko", 17), True),
        ("5月17日に行くと言っていました。", day_answers("ja", 17), True),
        ("5月7日です。", day_answers("ja", 17), False),
        ("You said May 17th.", day_answers("en", 17), True),
        ("On the 23rd of June.", day_answers("en", 23), True),
        ("Le 117e jour.", day_answers("fr", 17), False),
        ("Am 8. September.", day_answers("de", 8), True),
        ("Je te conseillais « Le Phare de sel ».", ("Phare de sel",), True),
    ],
)
def test_a_reply_names_the_day_or_value(
    reply: str, answers: tuple[str, ...], expected: bool
) -> None:
    assert names(reply, answers) is expected


@pytest.mark.parametrize(
    ("reply", "remembers_nothing"),
    [
        ("I don't remember recommending a restaurant for that trip.", True),
        ("그런 대화는 기억나지 않아요.", True),
        ("そのお店のことは覚えていないです。", True),
        ("Je ne me souviens pas de ce voyage.", True),
        ("No recuerdo haberte recomendado nada.", True),
        ("Daran erinnere mich nicht.", True),
        ("I recommended Le Petit Bistro, a lovely place by the harbour.", False),
    ],
)
def test_a_reply_that_does_not_remember_is_not_invented(
    reply: str, remembers_nothing: bool
) -> None:
    assert says_it_does_not_remember(reply) is remembers_nothing


@pytest.mark.parametrize(
    ("reply", "question", "made_up"),
    [
        (
            "통영에서 추천해 드린 식당은 '바다마루'입니다.",
            "통영 여행 때 추천해 준 식당이 어디였죠?",
            True,
        ),
        (
            "죄송합니다, 저는 당신의 정보를 가지고 있지 않습니다.",
            "제가 삼척에 언제 간다고 했었죠?",
            False,
        ),
        ("삼척에 갔을 때는 몇 년 전이었어요.", "제가 삼척에 언제 간다고 했었죠?", True),
        (
            "その日は2026年12月7日に松江へ行くと話しました。",
            "私が松江へ行くのはいつでしたっけ？",
            True,
        ),
        ("松江のお店はおすすめしていません。", "松江でおすすめしてくれたお店は？", False),
        ("Je ne peux pas vous conseiller de restaurants.", "Quel restaurant pour Quimper ?", False),
        ("Je ne vous ai pas encore dit que je vais à Quimper.", "Je vais à Quimper quand ?", False),
        ("Para Alcañiz, te recomiendo «El Molino».", "¿Qué restaurante para Alcañiz?", True),
        (
            "Ich habe dir für Wismar den „Ratskeller“ empfohlen.",
            "Welches Restaurant in Wismar?",
            True,
        ),
        ("Du fährst am 12. nach Wismar.", "Wann wollte ich nach Wismar fahren?", True),
        ("I'm sorry, I don't have any information about Whitby.", "Which café in Whitby?", False),
        ("You are going to Whitby to see a friend.", "When am I going to Whitby?", True),
        ("「Whitby」の話は聞いていません。", "「Whitby」のお店は？", False),
    ],
)
def test_an_answer_that_names_a_value_or_says_no_nothing_is_judged_as_such(
    reply: str, question: str, made_up: bool
) -> None:
    """A value named is made up whatever it denies; a plain no in any language is not."""
    assert invented(reply, question) is made_up


def test_the_judge_counts_each_kind_of_question() -> None:
    language: Language = LANGUAGES[-1]
    person, other = language.people[0], language.people[1]
    tally = Tally()
    for question in questions(language, person, other):
        reply = {
            "book": f'It was "{person.title}".',
            "deleted": f"It's {person.plant}.",
            "other_user": f"You're going on {other.date}.",
        }.get(question.kind, "I don't remember that.")
        judge(tally, question, reply)
    assert (tally.hits["answered"], tally.cases["answered"]) == (1, 4)
    assert (tally.hits["deleted_used"], tally.cases["deleted_used"]) == (1, 1)
    assert (tally.hits["invented"], tally.cases["invented"]) == (1, 2)
    assert (tally.hits["other_user"], tally.cases["other_user"]) == (1, 1)
    rows = table({"English": tally})
    assert rows[2].startswith("| English | 25% (1/4) | 50% (1/2) |")
    assert "n/a" in rows[2]  # no first token measured
