"""Does the bot speak and remember in its user's language? Six languages, people of their own.

The real graph (prompts, token budget, summary, memory) runs in this process
against the embedded model server (or ``CHATBOT_MODEL_FILE``'s model),
temperature 0, with an in-memory checkpointer and store, so memory across
threads of one user works as under the server. Each person of :data:`PEOPLE`
is their own user, writes only in their language and never sets ``language``:

1. thread A: they say their name, home city and a fact beyond the six kinds
   (a pet's name, an instrument, an allergy, a child's age, a boat's name);
   they are asked one of the three 1 turn later, another 3 turns later (small
   talk in their language between): **recall**.
2. thread B (new): "What's my name, and which city do I live in?": **new
   thread** (name and city, each a case); the free-form fact: **free form**;
   a question about something they never said (a sister's name, a birthday, a
   car): **invented answers** when the reply neither says it does not know
   nor asks; then "Actually I moved to X last month."
3. thread C (new): "Where do I live now?": **correction** when the reply names X.

Every reply: **reply language** (``language_of`` says the person's language).
Of the replies that hold an expected fact, **first person** counts those whose
sentence with it speaks as the bot's own ("저는 채원입니다"). After every turn the
user's store items ``(user_id, "memories")`` are read; a saved value is an
**invented fact** when a whitespace-separated piece of its ``text`` (NFKC,
case-folded) is not a substring of what the user wrote, so it judges every
script and either layout of memory.

No name or place here appears in a prompt, a test or another bench
(``tests/unit_tests/test_memory.py`` checks). Prints a per-language table and,
last, ``multilingual: reply_language=..% recall=..% ...``; writes
``bench/results/multilingual-<commit>.json`` and ``.md``.

    .venv/bin/python -m bench.multilingual                 # 30 people, ~20 min on 2 cores
    .venv/bin/python -m bench.multilingual --quick         # 2 people per language
    .venv/bin/python -m bench.multilingual --languages ko,ja --people 3
    .venv/bin/python -m bench.multilingual --held-out      # the held-out set: report only

The people of :data:`LANGUAGES` are the tuning set; ``--held-out`` runs
:data:`bench.multilingual_held_out.HELD_OUT` instead (three a language,
written before tuning), which is run only to report how a change holds on
people it was not shaped by.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import subprocess
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

import agent
from agent import settings
from agent.conversation.context import Context
from agent.graph import build_graph
from agent.models.local.launcher import embedded_model_server
from agent.models.local.weights import model_file
from agent.testing.languages import folded, language_of

REPLY_TOKENS = 96
"""Default reply cap of the bench (``CHATBOT_MAX_REPLY_TOKENS``): an answer fits, rambling stops."""


@dataclass(frozen=True)
class Person:
    """Someone who tells the bot about themselves, in their own language."""

    name: str
    city: str
    moved: str
    intro: str
    correction: str
    fact_question: str
    fact_answers: tuple[str, ...]


@dataclass(frozen=True)
class Language:
    """What every person of one language asks, and how its replies are judged."""

    name: str
    code: str
    name_question: str
    city_question: str
    both_question: str
    where_question: str
    small_talk: tuple[str, ...]
    unknown_questions: tuple[str, ...]
    people: tuple[Person, ...]


LANGUAGES = (
    Language(
        "Korean",
        "ko",
        "제 이름이 뭐예요?",
        "제가 어느 도시에 살아요?",
        "제 이름이 뭐고, 어느 도시에 살아요?",
        "저 지금 어디에 살아요?",
        (
            "가을에 먹기 좋은 음식을 한 문장으로 추천해 주세요.",
            "하늘은 왜 파란가요? 한 문장으로 답해 주세요.",
            "잠을 잘 자는 방법 하나만 한 문장으로 알려 주세요.",
        ),
        ("제 여동생 이름이 뭐예요?", "제 생일이 언제예요?", "제가 타는 차는 무슨 차예요?"),
        (
            Person(
                "채원",
                "제천",
                "원주",
                "안녕하세요! 저는 채원이에요. 제천에 살아요. 제 강아지 이름은 콩떡이에요.",
                "사실 지난달에 원주로 이사했어요.",
                "제 강아지 이름이 뭐예요?",
                ("콩떡",),
            ),
            Person(
                "시우",
                "군산",
                "순천",
                "안녕하세요, 저는 시우라고 해요. 군산에 살고 있어요. 저는 첼로를 연주해요.",
                "사실 지난달에 순천으로 이사했어요.",
                "제가 연주하는 악기가 뭐예요?",
                ("첼로",),
            ),
            Person(
                "지아",
                "안동",
                "포항",
                "반가워요. 제 이름은 지아예요. 안동에 살아요. 저는 복숭아 알레르기가 있어요.",
                "사실 지난달에 포항으로 이사했어요.",
                "저는 무슨 알레르기가 있어요?",
                ("복숭아",),
            ),
            Person(
                "도윤",
                "강릉",
                "속초",
                "안녕하세요! 저는 도윤입니다. 강릉에 살아요. 제 아들은 일곱 살이에요.",
                "사실 지난달에 속초로 이사했어요.",
                "제 아들은 몇 살이에요?",
                ("일곱", "7"),
            ),
            Person(
                "예린",
                "경주",
                "거제",
                "안녕! 나는 예린이야. 경주에 살아. 내 앵무새 이름은 망고야.",
                "사실 지난달에 거제로 이사했어.",
                "내 앵무새 이름이 뭐야?",
                ("망고",),
            ),
        ),
    ),
    Language(
        "Japanese",
        "ja",
        "私の名前は何ですか？",
        "私はどの街に住んでいますか？",
        "私の名前と、住んでいる街を教えてください。",
        "私は今どこに住んでいますか？",
        (
            "秋におすすめの食べ物を一文で教えてください。",
            "空はなぜ青いのですか？一文で答えてください。",
            "よく眠るためのコツを一つ、一文で教えてください。",
        ),
        ("私の妹の名前は何ですか？", "私の誕生日はいつですか？", "私が乗っている車は何ですか？"),
        (
            Person(
                "結衣",
                "富山",
                "高松",
                "こんにちは！結衣です。富山に住んでいます。飼っている猫の名前はこむぎです。",
                "実は先月、高松に引っ越しました。",
                "私の猫の名前は何ですか？",
                ("こむぎ",),
            ),
            Person(
                "悠真",
                "弘前",
                "秋田",
                "はじめまして、悠真といいます。弘前に住んでいます。趣味でビオラを弾いています。",
                "実は先月、秋田に引っ越しました。",
                "私が弾いている楽器は何ですか？",
                ("ビオラ",),
            ),
            Person(
                "美咲",
                "長崎",
                "熊本",
                "こんにちは。私の名前は美咲です。長崎に住んでいます。えびアレルギーがあります。",
                "実は先月、熊本に引っ越しました。",
                "私は何のアレルギーがありますか？",
                ("えび", "エビ", "海老"),
            ),
            Person(
                "大翔",
                "函館",
                "旭川",
                "こんにちは、大翔です。函館に住んでいます。娘は四歳です。",
                "実は先月、旭川に引っ越しました。",
                "私の娘は何歳ですか？",
                ("四", "4", "よん"),
            ),
            Person(
                "陽葵",
                "松本",
                "甲府",
                "やあ！陽葵だよ。松本に住んでるよ。インコを飼っていて、名前はソラだよ。",
                "実は先月、甲府に引っ越したんだ。",
                "私のインコの名前は何？",
                ("ソラ",),
            ),
        ),
    ),
    Language(
        "French",
        "fr",
        "Comment je m'appelle ?",
        "Dans quelle ville j'habite ?",
        "Comment je m'appelle, et dans quelle ville j'habite ?",
        "Où est-ce que j'habite maintenant ?",
        (
            "Propose-moi un plat d'automne, en une phrase.",
            "Pourquoi le ciel est-il bleu ? Réponds en une phrase.",
            "Donne-moi un conseil pour bien dormir, en une phrase.",
        ),
        (
            "Comment s'appelle ma sœur ?",
            "Quelle est la date de mon anniversaire ?",
            "Quelle voiture est-ce que je conduis ?",
        ),
        (
            Person(
                "Ombeline",
                "Angoulême",
                "Chambéry",
                "Bonjour ! Je m'appelle Ombeline, j'habite à Angoulême et mon chat s'appelle "
                "Gribouille.",
                "En fait, j'ai déménagé à Chambéry le mois dernier.",
                "Comment s'appelle mon chat ?",
                ("Gribouille",),
            ),
            Person(
                "Timothée",
                "Poitiers",
                "Limoges",
                "Salut, moi c'est Timothée. J'habite à Poitiers et je joue du hautbois.",
                "En fait, j'ai déménagé à Limoges le mois dernier.",
                "De quel instrument est-ce que je joue ?",
                ("hautbois",),
            ),
            Person(
                "Capucine",
                "Lorient",
                "Vannes",
                "Bonjour, je suis Capucine, je vis à Lorient et je suis allergique aux noisettes.",
                "En fait, j'ai déménagé à Vannes le mois dernier.",
                "À quoi est-ce que je suis allergique ?",
                ("noisette",),
            ),
            Person(
                "Gaspard",
                "Colmar",
                "Mulhouse",
                "Bonjour ! Je m'appelle Gaspard, j'habite à Colmar et ma fille a neuf ans.",
                "En fait, j'ai déménagé à Mulhouse le mois dernier.",
                "Quel âge a ma fille ?",
                ("neuf", "9"),
            ),
            Person(
                "Solène",
                "Perpignan",
                "Narbonne",
                "Coucou, c'est Solène. Je vis à Perpignan et mon voilier s'appelle Albatros.",
                "En fait, j'ai déménagé à Narbonne le mois dernier.",
                "Comment s'appelle mon voilier ?",
                ("Albatros",),
            ),
        ),
    ),
    Language(
        "Spanish",
        "es",
        "¿Cómo me llamo?",
        "¿En qué ciudad vivo?",
        "¿Cómo me llamo y en qué ciudad vivo?",
        "¿Dónde vivo ahora?",
        (
            "Recomiéndame una comida de otoño, en una frase.",
            "¿Por qué el cielo es azul? Responde en una frase.",
            "Dame un consejo para dormir bien, en una frase.",
        ),
        ("¿Cómo se llama mi hermana?", "¿Cuándo es mi cumpleaños?", "¿Qué coche conduzco?"),
        (
            Person(
                "Ainhoa",
                "Huesca",
                "Pamplona",
                "¡Hola! Me llamo Ainhoa, vivo en Huesca y mi perro se llama Chispa.",
                "En realidad, el mes pasado me mudé a Pamplona.",
                "¿Cómo se llama mi perro?",
                ("Chispa",),
            ),
            Person(
                "Leandro",
                "Rosario",
                "Mendoza",
                "Hola, soy Leandro. Vivo en Rosario y toco el charango.",
                "En realidad, el mes pasado me mudé a Mendoza.",
                "¿Qué instrumento toco?",
                ("charango",),
            ),
            Person(
                "Araceli",
                "Salamanca",
                "Zamora",
                "Buenas, me llamo Araceli, vivo en Salamanca y soy alérgica al marisco.",
                "En realidad, el mes pasado me mudé a Zamora.",
                "¿A qué soy alérgica?",
                ("marisco",),
            ),
            Person(
                "Joaquín",
                "Temuco",
                "Antofagasta",
                "¡Hola! Soy Joaquín, vivo en Temuco y mi hijo tiene seis años.",
                "En realidad, el mes pasado me mudé a Antofagasta.",
                "¿Cuántos años tiene mi hijo?",
                ("seis", "6"),
            ),
            Person(
                "Nerea",
                "Teruel",
                "Albacete",
                "Hola, me llamo Nerea. Vivo en Teruel y mi tortuga se llama Pancha.",
                "En realidad, el mes pasado me mudé a Albacete.",
                "¿Cómo se llama mi tortuga?",
                ("Pancha",),
            ),
        ),
    ),
    Language(
        "German",
        "de",
        "Wie heiße ich?",
        "In welcher Stadt wohne ich?",
        "Wie heiße ich, und in welcher Stadt wohne ich?",
        "Wo wohne ich jetzt?",
        (
            "Empfiehl mir ein Herbstgericht, in einem Satz.",
            "Warum ist der Himmel blau? Antworte in einem Satz.",
            "Gib mir einen Tipp für guten Schlaf, in einem Satz.",
        ),
        ("Wie heißt meine Schwester?", "Wann habe ich Geburtstag?", "Welches Auto fahre ich?"),
        (
            Person(
                "Mareike",
                "Stralsund",
                "Schwerin",
                "Hallo! Ich heiße Mareike, wohne in Stralsund und mein Hund heißt Krümel.",
                "Eigentlich bin ich letzten Monat nach Schwerin gezogen.",
                "Wie heißt mein Hund?",
                ("Krümel",),
            ),
            Person(
                "Malte",
                "Kassel",
                "Marburg",
                "Moin, ich bin Malte. Ich wohne in Kassel und spiele Tuba.",
                "Eigentlich bin ich letzten Monat nach Marburg gezogen.",
                "Welches Instrument spiele ich?",
                ("Tuba",),
            ),
            Person(
                "Friederike",
                "Würzburg",
                "Erlangen",
                "Guten Tag, mein Name ist Friederike. Ich lebe in Würzburg und bin allergisch "
                "gegen Sellerie.",
                "Eigentlich bin ich letzten Monat nach Erlangen gezogen.",
                "Wogegen bin ich allergisch?",
                ("Sellerie",),
            ),
            Person(
                "Korbinian",
                "Passau",
                "Landshut",
                "Servus! Ich bin Korbinian, wohne in Passau, und meine Tochter ist acht Jahre alt.",
                "Eigentlich bin ich letzten Monat nach Landshut gezogen.",
                "Wie alt ist meine Tochter?",
                ("acht", "8"),
            ),
            Person(
                "Swantje",
                "Flensburg",
                "Itzehoe",
                "Hallo, ich heiße Swantje, ich wohne in Flensburg und meine Katze heißt Pünktchen.",
                "Eigentlich bin ich letzten Monat nach Itzehoe gezogen.",
                "Wie heißt meine Katze?",
                ("Pünktchen",),
            ),
        ),
    ),
    Language(
        "English",
        "en",
        "What's my name?",
        "Which city do I live in?",
        "What's my name, and which city do I live in?",
        "Where do I live now?",
        (
            "Suggest an autumn dish, in one sentence.",
            "Why do leaves change colour in autumn? Answer in one sentence.",
            "Give me one tip for sleeping well, in one sentence.",
        ),
        ("What's my sister's name?", "When is my birthday?", "What car do I drive?"),
        (
            Person(
                "Rhiannon",
                "Swansea",
                "Aberystwyth",
                "Hi! I'm Rhiannon, I live in Swansea and my hamster is called Nutmeg.",
                "Actually, I moved to Aberystwyth last month.",
                "What is my hamster called?",
                ("Nutmeg",),
            ),
            Person(
                "Desmond",
                "Halifax",
                "Moncton",
                "Hello, my name is Desmond. I live in Halifax and I play the euphonium.",
                "Actually, I moved to Moncton last month.",
                "Which instrument do I play?",
                ("euphonium",),
            ),
            Person(
                "Harriet",
                "Wollongong",
                "Geelong",
                "Hey, I'm Harriet from Wollongong, and I'm allergic to sesame.",
                "Actually, I moved to Geelong last month.",
                "What am I allergic to?",
                ("sesame",),
            ),
            Person(
                "Callum",
                "Dunedin",
                "Nelson",
                "Hi there, I'm Callum. I live in Dunedin and my daughter is six.",
                "Actually, I moved to Nelson last month.",
                "How old is my daughter?",
                ("six", "6"),
            ),
            Person(
                "Imogen",
                "Missoula",
                "Boise",
                "Hello! I'm Imogen, I live in Missoula, and my canoe is named Wren.",
                "Actually, I moved to Boise last month.",
                "What is my canoe called?",
                ("Wren",),
            ),
        ),
    ),
)
"""Six languages, five people each: names, places and facts in no prompt, test or other bench."""

PEOPLE = [person for language in LANGUAGES for person in language.people]
"""Everyone of every language (the unit test that keeps names out of the prompts reads it)."""

TUNING, HELD_OUT_SET = "tuning", "held-out"
"""The two sets of people: the one changes are tuned against, and the one only reported."""

DISTANCES = (1, 3)
"""Turns between the user's first message and the in-thread questions."""

MEASURES = {
    "reply_language": ("reply in the user's language", ">= 95%"),
    "recall": ("recall in the thread, 1 and 3 turns later", ">= 90%"),
    "new_thread": ("name and city recalled in a new thread", ">= 90%"),
    "correction": ("correction applied (new thread names the new city)", ">= 85%"),
    "invented_facts": ("saved facts the user never stated", "<= 5%"),
    "free_form": ("free-form fact recalled in a new thread", ">= 80%"),
    "invented_answers": ("answers to never-stated facts that invent one", "<= 10%"),
    "first_person": ("replies with the user's fact that speak of it as the bot's own", "<= 10%"),
}
"""Every measure: its key, what it counts, its goal (issue 29's, per language)."""

DONT_KNOW = (
    # English
    "don't know",
    "do not know",
    "not sure",
    "no information",
    "don't have",
    "do not have",
    "haven't told",
    "have not told",
    "didn't tell",
    "did not tell",
    "haven't mentioned",
    "not mentioned",
    "not aware",
    "can't know",
    "cannot know",
    "no way to know",
    "tell me",
    "let me know",
    "not provided",
    "could you share",
    "can you share",
    # French
    "je ne sais pas",
    "je ne connais pas",
    "pas d'information",
    "aucune information",
    "ne m'avez pas",
    "ne m'as pas",
    "je n'ai pas",
    "je n'ai aucune",
    "dites-moi",
    "dis-moi",
    "me dire",
    "pas au courant",
    # Spanish
    "no sé",
    "no lo sé",
    "no conozco",
    "no tengo",
    "no me has",
    "no me dijiste",
    "no me lo has",
    "decirme",
    "dime",
    "no puedo saber",
    # German
    "weiß nicht",
    "weiß ich nicht",
    "kenne ich nicht",
    "keine information",
    "nicht bekannt",
    "nicht gesagt",
    "nicht erwähnt",
    "mir nicht",
    "sag mir",
    "sagen sie mir",
    "mir sagen",
    "kann ich nicht wissen",
    # Korean
    "모르",
    "알 수 없",
    "알지 못",
    "정보가 없",
    "정보는 없",
    "알려 주",
    "알려주",
    "말씀해",
    "확인할 수 없",
    # Japanese
    "わかりません",
    "分かりません",
    "わからない",
    "分からない",
    "知りません",
    "存じません",
    "知らない",
    "情報がありません",
    "情報はありません",
    "教えて",
    "不明",
    "覚えていません",
)
"""Phrases of a reply that says it does not know, or asks (any of the six languages)."""

_LATIN = r"(?<![^\W\d_])(?:{})(?![^\W\d_])"
FIRST_PERSON = re.compile(
    _LATIN.format(
        "i|i'm|i am|my|me|mine|je|mon|ma|mes|moi|yo|mi|mis|me llamo|soy|vivo"
        "|ich|mein|meine|meinen|meiner|mich|mir"
    )
    + r"|\bj'|(?<![가-힣])(?:저|제|나|내)(?=\s)|저는|제가|저의|저도|나는|내가|나도"
    + "|私|僕|俺|わたし|あたし",
    re.IGNORECASE,
)
"""The bot speaking of itself, in each language ("My name is", "저는", "私の名前")."""

SECOND_PERSON = re.compile(
    _LATIN.format(
        "you|your|you're|yours|vous|votre|vos|tu|ton|ta|tes|toi|tú|tus|usted|su|sus|te"
        "|du|dein|deine|deinen|dir|dich|sie|ihr|ihre|ihnen"
    )
    + r"|\bt'|당신|님|사용자|고객|귀하|あなた|さん|様|ユーザー|君",
    re.IGNORECASE,
)
"""The bot speaking to the user, in each language ("your name", "당신", "あなた")."""

_SENTENCE = re.compile(r"(?<=[.!?。！？])\s*|\n+")


def holds(reply: str, answer: str) -> bool:
    """Tell whether ``reply`` names ``answer`` (case and Latin accents ignored).

    A Latin or digit answer must start and end a word ("acht" is not in
    "Nacht", "6" not in "16"); in Korean and Japanese it may sit inside a
    word, as particles attach to it ("채원이에요").
    """
    answer, reply = folded(answer), folded(reply)
    if answer[:1].isascii() and answer[:1].isalnum():
        return re.search(rf"(?<!\w){re.escape(answer)}(?!\w)", reply) is not None
    return answer in reply


def holds_any(reply: str, answers: tuple[str, ...]) -> bool:
    """Tell whether ``reply`` names any of ``answers``."""
    return any(holds(reply, answer) for answer in answers)


def speaks_as_own(reply: str, answers: tuple[str, ...]) -> bool:
    """Tell whether the sentence that names the answer speaks of it as the bot's own."""
    for sentence in _SENTENCE.split(reply.replace("\u2019", "'")):
        if holds_any(sentence, answers):
            return bool(FIRST_PERSON.search(sentence)) and not SECOND_PERSON.search(sentence)
    return False


def invents(reply: str) -> bool:
    """Tell whether a reply to a question about a never-stated fact neither says so nor asks."""
    lowered = folded(reply).replace("\u2019", "'")
    return not any(folded(phrase) in lowered for phrase in DONT_KNOW)


def _pieces(text: str) -> list[str]:
    folded_text = unicodedata.normalize("NFKC", text).casefold()
    trimmed = (
        "".join(c for c in piece if not unicodedata.category(c).startswith("P"))
        for piece in folded_text.split()
    )
    return [piece for piece in trimmed if piece]


def stated(value_text: str, said: str) -> bool:
    """Tell whether every piece of a saved value occurs in what the user wrote (by characters).

    Pieces are the value's whitespace-separated words, NFKC case-folded,
    punctuation removed; each must be a substring of the user's words treated
    the same way, so particles (전주에) and unspaced scripts (札幌に) still ground.
    """
    haystack = "".join(_pieces(said))
    return all(piece in haystack for piece in _pieces(value_text))


async def drained() -> None:
    """Wait until the graph's background memory work is done, when the code has any.

    Issue 21 moves the summary fold and memory extraction off the reply's path
    into background tasks (``agent.housekeeping``); the code before it did both
    inside the run, so there is nothing to wait for. Looking the module up
    instead of importing it lets this bench measure that older code too (the
    "before" figures).
    """
    if importlib.util.find_spec("agent.housekeeping") is None:
        return
    housekeeping = importlib.import_module("agent.housekeeping")
    await housekeeping.drained()


@dataclass
class Tally:
    """Hits and cases of every measure, for one language or all."""

    hits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MEASURES, 0))
    cases: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MEASURES, 0))

    def count(self, measure: str, hit: bool) -> None:
        """Add one case of ``measure``."""
        self.hits[measure] += hit
        self.cases[measure] += 1

    def add(self, other: Tally) -> None:
        """Add every case of ``other``."""
        for measure in MEASURES:
            self.hits[measure] += other.hits[measure]
            self.cases[measure] += other.cases[measure]

    def share(self, measure: str) -> str:
        """Return the measure as a percentage, or n/a without cases."""
        cases = self.cases[measure]
        return f"{100 * self.hits[measure] / cases:.0f}%" if cases else "n/a"

    def cell(self, measure: str) -> str:
        """Return the measure as ``percent (hits/cases)``."""
        return f"{self.share(measure)} ({self.hits[measure]}/{self.cases[measure]})"


class User:
    """One person talking to the real graph, in process, in as many threads as asked."""

    def __init__(self, graph: Any, store: InMemoryStore, user_id: str, language: Language):
        """Talk as ``user_id``; every reply is judged against ``language``."""
        self.graph, self.store, self.user_id, self.language = graph, store, user_id, language
        self.said: list[str] = []
        self.saved: set[tuple[str, str]] = set()
        self.tally = Tally()
        self.log: list[dict[str, Any]] = []

    async def say(self, thread: str, text: str, check: str = "") -> str:
        """Send ``text`` on ``thread``, wait for background work, note the reply and the store."""
        config: Any = {
            "configurable": {"thread_id": f"{self.user_id}-{thread}"},
        }
        config["configurable"]["langgraph_auth_user_id"] = self.user_id
        self.said.append(text)
        turn = {"messages": [{"role": "user", "content": text}]}
        state = await self.graph.ainvoke(turn, config, context=Context())
        await drained()
        reply = str(state["messages"][-1].content)
        found = language_of(reply)
        self.tally.count("reply_language", found == self.language.name)
        for item in await self.store.asearch((self.user_id, "memories"), limit=100):
            self.saved.add((item.key, str(item.value.get("text", ""))))
        self.log.append({"thread": thread, "said": text, "reply": reply, "language": found})
        if check:
            self.log[-1]["check"] = check
        return reply

    def judge(self, measure: str, reply: str, *expected: tuple[str, ...]) -> None:
        """Count one case of ``measure`` per expected fact, hit when ``reply`` names it.

        A reply that names any of them is also one case of ``first_person``.
        """
        hits = [holds_any(reply, answers) for answers in expected]
        for hit in hits:
            self.tally.count(measure, hit)
        if any(hits):
            named = tuple(answer for answers in expected for answer in answers)
            own = speaks_as_own(reply, named)
            self.tally.count("first_person", own)
            self.log[-1]["first_person"] = own
        self.log[-1][measure] = hits


async def one_person(
    graph: Any, store: InMemoryStore, language: Language, number: int, person: Person, attempt: int
) -> User:
    """Run one person's three threads (as a new user on each attempt); return what was measured."""
    user = User(graph, store, f"ml-{language.code}-{number}-{attempt}", language)
    asked = [
        (language.name_question, (person.name,)),
        (language.city_question, (person.city,)),
        (person.fact_question, person.fact_answers),
    ]
    await user.say("a", person.intro)
    turn = 0
    for which, distance in enumerate(DISTANCES):
        while turn < distance - 1:
            await user.say("a", language.small_talk[(number + turn) % len(language.small_talk)])
            turn += 1
        question, answers = asked[(number + which) % len(asked)]
        user.judge("recall", await user.say("a", question, f"recall d={distance}"), answers)
        turn += 1
    reply = await user.say("b", language.both_question, "new thread")
    user.judge("new_thread", reply, (person.name,), (person.city,))
    user.judge(
        "free_form", await user.say("b", person.fact_question, "free form"), person.fact_answers
    )
    unknown = language.unknown_questions[number % len(language.unknown_questions)]
    reply = await user.say("b", unknown, "never stated")
    user.tally.count("invented_answers", invents(reply))
    user.log[-1]["invented"] = invents(reply)
    await user.say("b", person.correction)
    reply = await user.say("c", language.where_question, "correction")
    user.judge("correction", reply, (person.moved,))
    everything = " ".join(user.said)
    for key, text in sorted(user.saved):
        grounded = stated(text, everything)
        user.tally.count("invented_facts", not grounded)
        user.log.append({"saved": key, "text": text, "stated": grounded})
    return user


def people_of(language: Language, people_set: str) -> tuple[Person, ...]:
    """Return the people of ``language`` in the tuning or the held-out set."""
    if people_set == HELD_OUT_SET:
        from bench.multilingual_held_out import HELD_OUT

        return HELD_OUT[language.code]
    return language.people


def git(*args: str) -> str:
    """Run git in the checkout (or worktree) the ``agent`` package under test comes from."""
    where = Path(agent.__file__).resolve().parent
    done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def provenance(
    model: Path, seconds: float, people: int, restarts: int, people_set: str = TUNING
) -> dict[str, Any]:
    """Describe where the figures come from: date, commit, model file, machine, versions."""
    cpu = platform.machine()
    with contextlib.suppress(OSError):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    versions = {}
    for package in ("langgraph", "langchain-openai", "llama_cpp_python"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[package] = importlib.metadata.version(package)
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git("rev-parse", "HEAD"),
        "uncommitted_in_src": git("status", "--porcelain", "--", ":(top)src").splitlines(),
        "agent_package": str(Path(agent.__file__).resolve().parent),
        "model_file": f"{model.name} ({model.stat().st_size:,} bytes)",
        "machine": f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "packages": versions,
        "reply_cap_tokens": settings.MAX_REPLY_TOKENS.get(),
        "seconds": round(seconds),
        "people": people,
        "people_set": people_set,
        "model_restarts": restarts,
    }


def table(tallies: dict[str, Tally]) -> list[str]:
    """Return the per-language table, one row per language and the total, as Markdown."""
    header = ["Language", *MEASURES]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * len(MEASURES)]
    goals = ["goal", *(goal for _what, goal in MEASURES.values())]
    for name, tally in tallies.items():
        lines.append(f"| {name} | " + " | ".join(tally.cell(m) for m in MEASURES) + " |")
    lines.append("| " + " | ".join(goals) + " |")
    return lines


def sum_of(tallies: dict[str, Tally]) -> Tally:
    """Return the cases of every language together."""
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    return total


def summary_line(total: Tally) -> str:
    """Return the last line the bench prints."""
    return "multilingual: " + " ".join(f"{m}={total.share(m)}" for m in MEASURES)


def markdown(facts: dict[str, Any], tallies: dict[str, Tally], total: Tally) -> str:
    """Return the results page: provenance, the table, what each measure counts."""
    dirty = facts["uncommitted_in_src"]
    lines = [
        f"# Multilingual quality, {facts['date']}",
        "",
        f"Commit `{facts['commit']}`"
        + (f" with uncommitted changes in src/ ({'; '.join(dirty)})" if dirty else "")
        + f"; model `{facts['model_file']}`; {facts['machine']}; "
        + f"replies capped at {facts['reply_cap_tokens']} tokens; temperature 0; "
        + f"{facts['people']} people ({facts.get('people_set', TUNING)} set); "
        + f"{facts['seconds']} s; "
        + f"model server restarted {facts['model_restarts']} times "
        + "(`python -m bench.multilingual`).",
        "",
        *table(tallies),
        "",
        f"`{summary_line(total)}`",
        "",
        *(f"- `{measure}`: {what}" for measure, (what, _goal) in MEASURES.items()),
        "",
        "Every reply and saved fact is in the JSON file of the same name.",
    ]
    return "\n".join(lines) + "\n"


def write(out: Path, facts: dict[str, Any], tallies: dict[str, Tally], log: list[Any]) -> Path:
    """Write the results as JSON and Markdown under ``out``; return their path without suffix."""
    total = sum_of(tallies)
    out.mkdir(parents=True, exist_ok=True)
    held_out = "held-out-" if facts.get("people_set") == HELD_OUT_SET else ""
    stem = out / f"multilingual-{held_out}{facts['commit'][:7] or 'unknown'}"
    everyone = {**tallies, "all": total}
    results = {
        **facts,
        "measures": {name: {"hits": t.hits, "cases": t.cases} for name, t in everyone.items()},
        "conversations": log,
    }
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    stem.with_suffix(".md").write_text(markdown(facts, everyone, total))
    return stem


class ModelServer:
    """The embedded model server, restarted when it dies under the bench."""

    def __init__(self) -> None:
        """Start nothing yet: :meth:`start` does."""
        self.stack = contextlib.AsyncExitStack()
        self.restarts = 0

    async def start(self) -> None:
        """Start the server and point the graph's endpoint at it."""
        base_url = await self.stack.enter_async_context(embedded_model_server())
        settings.set_local_model_url(base_url)

    async def restart(self) -> None:
        """Stop the server (whatever state it is in) and start a new one."""
        await self.stack.aclose()
        self.stack = contextlib.AsyncExitStack()
        self.restarts += 1
        await self.start()


async def main() -> None:
    """Run every person of the chosen languages; print and write the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 people per language")
    parser.add_argument("--people", type=int, help="people per language (default: all)")
    parser.add_argument(
        "--held-out", action="store_true", help="run the held-out people (report only)"
    )
    parser.add_argument(
        "--languages",
        default=",".join(language.code for language in LANGUAGES),
        help="comma-separated codes (ko,ja,fr,es,de,en)",
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--verbose", action="store_true", help="print every reply")
    parser.add_argument(
        "--reply-tokens", type=int, default=REPLY_TOKENS, help="reply cap of the embedded model"
    )
    args = parser.parse_args()
    os.environ[settings.MAX_REPLY_TOKENS.name] = str(args.reply_tokens)
    per_language = args.people or (2 if args.quick else None)
    people_set = HELD_OUT_SET if args.held_out else TUNING
    codes = args.languages.split(",")
    chosen = [language for language in LANGUAGES if language.code in codes]
    started = time.monotonic()
    tallies: dict[str, Tally] = {}
    log: list[dict[str, Any]] = []
    model = await asyncio.to_thread(model_file)
    server = ModelServer()
    await server.start()
    store = InMemoryStore()
    graph = build_graph().compile(checkpointer=InMemorySaver(), store=store)
    try:
        for language in chosen:
            tallies[language.name] = Tally()
            began = time.monotonic()
            for number, person in enumerate(people_of(language, people_set)[:per_language]):
                for attempt in range(2):  # a model server that died is restarted, once a person
                    try:
                        user = await one_person(graph, store, language, number, person, attempt)
                        break
                    except Exception as error:  # noqa: BLE001 - report, restart, go on
                        print(f"{person.name}: {error!r}; restarting the model", flush=True)
                        log.append(
                            {"person": person.name, "attempt": attempt, "error": repr(error)}
                        )
                        await server.restart()
                else:
                    continue
                tallies[language.name].add(user.tally)
                log.append({"language": language.name, "person": person.name, "turns": user.log})
                if args.verbose:
                    for entry in user.log:
                        print(json.dumps(entry, ensure_ascii=False), flush=True)
            print(f"{language.name}: {time.monotonic() - began:.0f} s", flush=True)
            people = sum(1 for entry in log if "turns" in entry)
            seconds = time.monotonic() - started
            facts = provenance(model, seconds, people, server.restarts, people_set)
            stem = write(args.out, facts, tallies, log)
    finally:
        await server.stack.aclose()
    print("\n".join(table({**tallies, "all": sum_of(tallies)})))
    print(f"wrote {stem}.md and .json ({facts['seconds']} s)")
    print(summary_line(sum_of(tallies)))


if __name__ == "__main__":
    asyncio.run(main())
