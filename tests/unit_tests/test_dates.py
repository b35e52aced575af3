"""The past day or week a message names, in six languages, and what names none."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from agent.conversation.dates import Days, days_named

NOW = datetime(2026, 12, 9, 15, 0).astimezone()  # a Wednesday
YESTERDAY = Days(date(2026, 12, 8), date(2026, 12, 8))
LAST_WEEK = Days(date(2026, 11, 30), date(2026, 12, 6))
DAY_BEFORE = Days(date(2026, 12, 7), date(2026, 12, 7))


@pytest.mark.parametrize(
    ("language", "message", "days"),
    [
        ("Korean", "어제 우리 무슨 얘기 했지?", YESTERDAY),
        ("Japanese", "昨日は何を話しましたか？", YESTERDAY),
        ("French", "De quoi avons-nous parlé hier ?", YESTERDAY),
        ("Spanish", "¿De qué hablamos ayer?", YESTERDAY),
        ("German", "Worüber haben wir gestern gesprochen?", YESTERDAY),
        ("English", "What did we talk about yesterday?", YESTERDAY),
        ("French", "Quel roman m'as-tu conseillé avant-hier ?", DAY_BEFORE),
        ("English", "What did we discuss on Monday?", DAY_BEFORE),
        ("Japanese", "先週おすすめしてくれた本は何？", LAST_WEEK),
        ("German", "Was hast du mir letzte Woche empfohlen?", LAST_WEEK),
        # Phrases dateparser's search of a sentence misread or missed:
        ("English", "What did we talk about the day before yesterday?", DAY_BEFORE),
        ("English", "Which film did you suggest two days ago?", DAY_BEFORE),
        ("French", "De quoi avons-nous parlé la semaine dernière ?", LAST_WEEK),
        ("Spanish", "¿Qué receta me diste la semana pasada?", LAST_WEEK),
        ("Korean", "지난주에 무슨 얘기 했지?", LAST_WEEK),  # the week, its particle attached
    ],
)
def test_a_past_day_or_week_is_read_in_the_users_language(
    language: str, message: str, days: Days
) -> None:
    found = days_named(message, language, NOW)
    assert found is not None and (found.first, found.last) == (days.first, days.last)
    assert found.named and found.named in message, "the words that name them, as written"


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("French", "Je m'appelle Honorine et je suis potière."),  # "je": jeudi
        ("French", "Quel âge a ma fille ?"),  # "ma": mardi
        ("Spanish", "La novia de mi amigo se llama Leocadia."),  # "mi": miércoles
        ("French", "J'habite à Guéret et ma fille a neuf ans."),  # nine years: too far back
        ("English", "Where do I live now?"),  # today names the conversation in progress
        ("Korean", "오늘 저녁 메뉴 추천해 줄래요?"),
        ("German", "Was machen wir morgen?"),  # a day to come
        ("English", "I was born in May."),  # a month is too wide to recall by
        ("Japanese", "カレーのレシピを教えて"),
        ("English", "Yesterday " + "was a long day and " * 30),  # pasted text
        ("German", "Warum ist der Himmel blau? Antworte in einem Satz."),  # "in one"
        ("German", "Meine Tochter ist acht Jahre alt."),  # "eight": the 8th
        ("Korean", "제 화분 이름이 뭐였죠?"),  # 화분 less a syllable: 화, Tuesday
        ("Korean", "제 아들은 일곱 살이에요."),  # 일곱 less a syllable: 일, Sunday
    ],
)
def test_a_message_that_names_no_past_day_gives_none(language: str, message: str) -> None:
    assert days_named(message, language, NOW) is None


def test_a_language_dateparser_is_not_told_reads_no_day() -> None:
    # Read in every language it knows, a message took up to 2 s.
    assert days_named("What did we talk about yesterday?", None, NOW) is None
    assert days_named("What did we talk about yesterday?", "Klingon", NOW) is None


def test_the_days_are_whole_local_days() -> None:
    start, end = YESTERDAY.period()
    assert (start.hour, start.minute, end - start) == (0, 0, end - start)
    assert (end - start).days == 1 and start.tzinfo is not None
