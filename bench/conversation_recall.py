"""Does a new conversation answer from the user's earlier ones? Issue 30's bench, six languages.

Written before the feature, so the held-out set
(:mod:`bench.conversation_recall_held_out`, two people a language) is fixed
before any tuning; the tuning people are :data:`LANGUAGES` (four a language).
Each person is their own user of a real ``langgraph dev`` (auth on, a signed
token each; the embedded model or ``CHATBOT_MODEL_FILE``'s, temperature 0,
replies capped at 96 tokens; memory of facts off unless ``--remember``, so an
answer can only come from the conversations), driven through the SDK.

**How the history is made.** Each earlier conversation is written the way
``chatbot import`` writes one (``agent.client.conversations.import_request``:
``POST /threads`` with ``supersteps`` writing the messages as the node that
ends a turn, which ``server/validation.py`` lets a client write: ``messages``
only), so the bot's part is fixed and checkable: its recommendation is a book
title of the person's own, its recipe ends with a named ingredient. Then the
user's closing message ("Thanks!") is run as a real turn, so the thread is a
conversation of that user as any other (its owner in the checkpoints) and the
reply's chores index it for search. An imported thread is otherwise indexed
only at the next server start, and then as the local user's, not its
owner's (``server/search_backfill.py`` reads the owner from the checkpoints'
``langgraph_auth_user_id``, which an import's checkpoints do not carry).
Before any question, the bench checks through ``GET /chatbot/search`` that
each conversation is found for its owner and not for another user
(``indexed``, ``isolated``).

Per person, five earlier conversations:

1. small talk: the user repainted ``{thing}`` at the weekend (the user's words);
2. a recommendation: the user asks for a novel about the sea, the bot's
   fixed reply recommends ``{title}`` (the bot's words);
3. a plan: the user goes to ``{place}`` on ``{date}`` (the user's words; the
   question asks the date);
4. a recipe: the user asks for ``{dish}``, the bot's fixed recipe ends with
   ``{ingredient}`` (the bot's words);
5. the user names their houseplant ``{plant}``: this conversation is
   **deleted** before the questions and must never be used again.

Then each question in a new conversation of its own, in the person's
language, phrased differently from the original words:

- one about each of 1-4: **answered** when the reply names the expected
  value (``holds_any`` of :mod:`bench.multilingual`; a day in Korean and
  Japanese, "17일", "17日", is found inside words too, as particles attach).
  Every question shares at least one content word with its conversation, so
  keyword retrieval can find it (:attr:`Language.shared` names it, the unit
  test checks it is in both): the small talk's verb (repaint, 페인트칠, 塗り直,
  repeint, pintar, gestrichen), "novel" (소설, 小説, roman, novela, Roman; the
  user's request holds it, the bot's reply too), the place of the plan, the
  dish of the recipe (the plan's question asks the date, the recipe's the
  ingredient). None shares only meaning, and the expected value itself is in
  no question (the unit test checks both).
- the deleted conversation's question ("What's my houseplant called?", which
  shares "houseplant"): **deleted used** when the reply names the plant;
- two about conversations that never happened: a restaurant recommended for a
  trip to a place never mentioned, and the plan question about another
  user's place (that user's conversation exists on the server and holds the
  place, so a search that ignored whose it is would find it): **invented**
  when the reply names a number or a quoted name the question did not, or
  else neither says it does not know or remember, nor asks, nor declines
  (``invents`` of :mod:`bench.multilingual` plus :data:`DONT_REMEMBER` and
  :data:`DECLINES`: see :func:`invented`); **other user** when it names the
  other user's day.

The closing turn's reply is the model's own, so it is not fixed; it is in the
JSON with the rest.

"What did we talk about yesterday?" is not asked: the time a message is
indexed is when it was written, and a bench cannot date a conversation back.

Per question the first token (ms from the request to the first streamed
token of the ``model`` node) and the reply's prompt (``on_chat_model_start``
of the events stream: characters, and tokens approximated as one a CJK
character and one per 4 other characters) are recorded, so what retrieval
adds can be read against this baseline. Prints a per-language table and,
last, ``conversation_recall: answered=..% invented=..% ...``; writes
``bench/results/conversation-recall-<commit>.md`` and ``.json`` (every reply
and prompt size).

    .venv/bin/python -m bench.conversation_recall                 # 24 people
    .venv/bin/python -m bench.conversation_recall --people 2      # 2 people a language
    .venv/bin/python -m bench.conversation_recall --languages ko,en --verbose
    .venv/bin/python -m bench.conversation_recall --held-out      # report only
    .venv/bin/python -m bench.conversation_recall --rejudge bench/results/X.json  # judge again
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent.client.conversations import final_node, import_request
from agent.models.local.launcher import free_port
from agent.models.local.weights import model_file
from agent.server.tokens import create_token
from agent.testing.dev_server import DevServer, server_environment, write_config
from agent.testing.languages import folded
from agent.testing.turns import GRAPH_ID, user
from bench.multilingual import HELD_OUT_SET, TUNING, git, holds_any, invents, provenance


@dataclass(frozen=True)
class Person:
    """Someone with earlier conversations, in their own language."""

    name: str
    thing: str
    """What they repainted, as the small talk says it (with its article where the language has one)."""
    thing_key: str
    """The word of ``thing`` a reply must name."""
    title: str
    """The book the bot recommended, as its reply wrote it."""
    title_key: str
    """The part of ``title`` a reply must name (the title without its article)."""
    place: str
    date: str
    """When they go to ``place``, as they wrote it."""
    day: int
    """The day of ``date``: a reply must name it."""
    dish: str
    """The dish whose recipe they asked for, as the request says it."""
    dish_key: str
    ingredient: str
    """What the bot's recipe adds at the end: a reply must name it."""
    plant: str
    """Their houseplant's name, said in a conversation that is deleted before the questions."""
    never: str
    """A place never mentioned in any conversation of theirs."""


@dataclass(frozen=True)
class Language:
    """The earlier conversations and the questions of one language, as templates."""

    name: str
    code: str
    small_talk: tuple[str, str]
    """The user's small talk (``{thing}``) and the bot's fixed reply."""
    book: tuple[str, str]
    """The user asks for a novel; the bot recommends ``{title}``."""
    plan: tuple[str, str]
    """The user's plan (``{place}``, ``{date}``) and the bot's reply."""
    recipe: tuple[str, str]
    """The user asks for ``{dish}``; the bot's recipe ends with ``{ingredient}``."""
    plant: tuple[str, str]
    """The user names their houseplant ``{plant}`` (the conversation that is deleted)."""
    thanks: str
    """The user's last message of every earlier conversation: the one real turn of it."""
    ask_small_talk: str
    ask_book: str
    ask_plan: str
    ask_recipe: str
    ask_plant: str
    ask_never: str
    """A question about a conversation that never happened (``{never}``)."""
    shared: dict[str, str]
    """For each kind of conversation, a word both its question and the conversation hold."""
    people: tuple[Person, ...]


KINDS = ("small_talk", "book", "plan", "recipe")
"""The earlier conversations a new one asks about, in the order they were had."""

DELETED = "plant"
"""The earlier conversation deleted before the questions: it must never be used again."""


def day_answers(code: str, day: int) -> tuple[str, ...]:
    """Return how a reply may name ``day`` in the language ``code``."""
    if code == "ko":
        return (f"{day}일",)
    if code == "ja":
        return (f"{day}日",)
    if code == "en":
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(day % 10 if day not in (11, 12, 13) else 0, "th")
        return (str(day), f"{day}{suffix}")
    return (str(day),)


LANGUAGES = (
    Language(
        "Korean",
        "ko",
        (
            "이번 주말에 드디어 {thing} 페인트칠을 새로 했어요. 뿌듯하네요!",
            "정말 뿌듯하시겠어요! 직접 손본 물건은 더 애착이 가죠.",
        ),
        (
            "바다에 관한 소설 한 권 추천해 줄래요?",
            "『{title}』 추천해요. 등대지기의 한 해를 그린 잔잔한 소설이에요.",
        ),
        ("{date}에 {place}에 가기로 했어요. 친구를 만나러 가요.", "좋네요! 즐거운 여행 되세요."),
        (
            "{dish} 만드는 법 좀 알려 줄래요?",
            "{dish} 만드는 법이에요. 1. 재료를 손질해요. 2. 중불에서 천천히 익혀요. "
            "3. 마지막에 {ingredient} 조금 넣으면 완성이에요.",
        ),
        (
            "새로 들인 화분에 이름을 붙였어요. 이름은 {plant}예요.",
            "귀여운 이름이네요! 잘 자라길 바라요.",
        ),
        "고마워요!",
        "지난번에 주말에 페인트칠했다고 말한 게 뭐였죠?",
        "예전에 저한테 추천해 준 소설 제목이 뭐였어요?",
        "제가 {place}에 언제 간다고 했었죠?",
        "{dish} 만들 때 마지막에 넣으라고 한 재료가 뭐였죠?",
        "제 화분 이름이 뭐였죠?",
        "{never} 여행 갈 때 추천해 준 식당이 어디였죠?",
        {"small_talk": "페인트칠", "book": "소설", "recipe": "{dish}", "plant": "화분"},
        (
            Person(
                "여울",
                "흔들의자",
                "흔들의자",
                "물결의 서랍",
                "물결의 서랍",
                "영덕",
                "5월 17일",
                17,
                "도토리묵",
                "도토리묵",
                "들기름",
                "몽실이",
                "울릉도",
            ),
            Person(
                "서율",
                "우편함",
                "우편함",
                "소금 등대",
                "소금 등대",
                "부안",
                "6월 23일",
                23,
                "수제비",
                "수제비",
                "깻잎",
                "초롱이",
                "거문도",
            ),
            Person(
                "로운",
                "책꽂이",
                "책꽂이",
                "갈매기 우체국",
                "갈매기 우체국",
                "남원",
                "9월 8일",
                8,
                "호박죽",
                "호박죽",
                "유자청",
                "방울이",
                "청산도",
            ),
            Person(
                "한결",
                "장식장",
                "장식장",
                "파도 아래 정원",
                "파도 아래 정원",
                "태백",
                "10월 29일",
                29,
                "콩국수",
                "콩국수",
                "흑임자",
                "솜이",
                "홍도",
            ),
        ),
    ),
    Language(
        "Japanese",
        "ja",
        (
            "この週末、やっと{thing}を塗り直しました。満足です！",
            "それは達成感がありますね！自分で手入れした物は愛着がわきますよね。",
        ),
        (
            "海についての小説を一冊おすすめしてくれますか？",
            "『{title}』をおすすめします。灯台守の一年を描いた静かな小説です。",
        ),
        (
            "{date}に{place}へ行くことにしました。友だちに会いに行きます。",
            "いいですね！楽しい旅になりますように。",
        ),
        (
            "{dish}の作り方を教えてくれますか？",
            "{dish}の作り方です。1. 材料を下ごしらえします。2. 中火でじっくり火を通します。"
            "3. 仕上げに{ingredient}を少し加えたら完成です。",
        ),
        (
            "新しい鉢植えに名前をつけました。「{plant}」です。",
            "かわいい名前ですね！元気に育ちますように。",
        ),
        "ありがとう！",
        "この前、週末に塗り直したと話した物は何でしたっけ？",
        "以前私におすすめしてくれた小説のタイトルは何でしたか？",
        "私が{place}へ行くのはいつだと言っていましたっけ？",
        "{dish}の仕上げに入れるように言われた材料は何でしたか？",
        "私の鉢植えの名前は何でしたっけ？",
        "{never}旅行のときにおすすめしてくれたお店はどこでしたっけ？",
        {"small_talk": "塗り直", "book": "小説", "recipe": "{dish}", "plant": "鉢植え"},
        (
            Person(
                "颯汰",
                "郵便受け",
                "郵便受け",
                "潮騒の引き出し",
                "潮騒の引き出し",
                "尾道",
                "5月17日",
                17,
                "肉じゃが",
                "肉じゃが",
                "柚子胡椒",
                "ぽこた",
                "屋久島",
            ),
            Person(
                "紬",
                "ロッキングチェア",
                "ロッキングチェア",
                "塩の灯台",
                "塩の灯台",
                "萩",
                "6月23日",
                23,
                "筑前煮",
                "筑前煮",
                "山椒",
                "まめた",
                "石垣島",
            ),
            Person(
                "朔",
                "本棚",
                "本棚",
                "かもめ郵便局",
                "かもめ郵便局",
                "津和野",
                "9月8日",
                8,
                "茶碗蒸し",
                "茶碗蒸し",
                "三つ葉",
                "ふくすけ",
                "佐渡",
            ),
            Person(
                "澪",
                "物置",
                "物置",
                "波の下の庭",
                "波の下の庭",
                "高山",
                "10月29日",
                29,
                "豚汁",
                "豚汁",
                "黒七味",
                "こけまる",
                "小豆島",
            ),
        ),
    ),
    Language(
        "French",
        "fr",
        (
            "Ce week-end, j'ai enfin repeint {thing}. Je suis content du résultat !",
            "Bravo ! On s'attache toujours plus aux objets qu'on a retapés soi-même.",
        ),
        (
            "Tu peux me conseiller un roman sur la mer ?",
            "Je te conseille « {title} », un roman paisible sur une année dans la vie "
            "d'un gardien de phare.",
        ),
        (
            "J'ai décidé d'aller à {place} le {date}. Je vais rendre visite à une amie.",
            "Super idée, bon voyage !",
        ),
        (
            "Tu peux me donner la recette de {dish} ?",
            "Voici la recette de {dish} : 1. Prépare les ingrédients. 2. Fais cuire doucement "
            "à feu moyen. 3. Pour finir, ajoute un peu de {ingredient}, et c'est prêt.",
        ),
        (
            "J'ai donné un nom à ma nouvelle plante : {plant}.",
            "Quel joli nom ! J'espère qu'elle poussera bien.",
        ),
        "Merci !",
        "C'était quoi, ce que j'ai repeint le week-end dernier ?",
        "C'était quoi, le titre du roman que tu m'avais conseillé ?",
        "Je t'ai dit que j'allais à {place} quand, déjà ?",
        "Pour {dish}, c'était quoi l'ingrédient à ajouter à la fin ?",
        "Comment s'appelle ma plante, déjà ?",
        "Quel restaurant tu m'avais conseillé pour mon voyage à {never} ?",
        {"small_talk": "repeint", "book": "roman", "recipe": "{dish_key}", "plant": "plante"},
        (
            Person(
                "Gonzague",
                "la vieille commode",
                "commode",
                "Le Tiroir des marées",
                "Tiroir des marées",
                "Paimpol",
                "17 mai",
                17,
                "la flamiche",
                "flamiche",
                "sarriette",
                "Pistou",
                "Bastia",
            ),
            Person(
                "Bertille",
                "le portail du jardin",
                "portail",
                "Le Phare de sel",
                "Phare de sel",
                "Collioure",
                "23 juin",
                23,
                "la pissaladière",
                "pissaladière",
                "fenugrec",
                "Fripouille",
                "Biarritz",
            ),
            Person(
                "Eudes",
                "la balancelle",
                "balancelle",
                "La Poste des goélands",
                "Poste des goélands",
                "Briançon",
                "8 septembre",
                8,
                "la garbure",
                "garbure",
                "mélisse",
                "Biscotte",
                "Riquewihr",
            ),
            Person(
                "Mahaut",
                "le vaisselier",
                "vaisselier",
                "Le Jardin sous la houle",
                "Jardin sous la houle",
                "Menton",
                "29 octobre",
                29,
                "la potée",
                "potée",
                "cerfeuil",
                "Zéphyrin",
                "Sisteron",
            ),
        ),
    ),
    Language(
        "Spanish",
        "es",
        (
            "Este fin de semana por fin volví a pintar {thing}. ¡Quedó genial!",
            "¡Qué bien! Uno le tiene más cariño a lo que arregla con sus propias manos.",
        ),
        (
            "¿Me recomiendas una novela sobre el mar?",
            "Te recomiendo «{title}», una novela tranquila sobre un año en la vida de un farero.",
        ),
        (
            "He decidido ir a {place} el {date}. Voy a visitar a una amiga.",
            "¡Qué buena idea! Buen viaje.",
        ),
        (
            "¿Me das la receta de {dish}?",
            "Aquí tienes la receta de {dish}: 1. Prepara los ingredientes. 2. Cocina a fuego "
            "medio, despacio. 3. Al final, añade un poco de {ingredient} y listo.",
        ),
        (
            "Le he puesto nombre a mi planta nueva: {plant}.",
            "¡Qué nombre tan bonito! Ojalá crezca mucho.",
        ),
        "¡Gracias!",
        "¿Qué te conté que había vuelto a pintar el fin de semana?",
        "¿Cómo se titulaba la novela que me recomendaste?",
        "¿Cuándo te dije que iba a {place}?",
        "¿Qué ingrediente me dijiste que añadiera al final en {dish}?",
        "¿Cómo se llamaba mi planta?",
        "¿Qué restaurante me recomendaste para mi viaje a {never}?",
        {"small_talk": "pintar", "book": "novela", "recipe": "{dish_key}", "plant": "planta"},
        (
            Person(
                "Begoña",
                "la mecedora",
                "mecedora",
                "El cajón de las mareas",
                "cajón de las mareas",
                "Cudillero",
                "17 de mayo",
                17,
                "la porrusalda",
                "porrusalda",
                "ñora",
                "Garbancito",
                "Ronda",
            ),
            Person(
                "Rodrigo",
                "el buzón",
                "buzón",
                "La cartera del cormorán",
                "cartera del cormorán",
                "Morella",
                "23 de junio",
                23,
                "la escalivada",
                "escalivada",
                "ajedrea",
                "Pimpollo",
                "Zahara",
            ),
            Person(
                "Amaia",
                "la estantería",
                "estantería",
                "Las islas de ceniza",
                "islas de ceniza",
                "Albarracín",
                "8 de septiembre",
                8,
                "la pipirrana",
                "pipirrana",
                "hierbabuena",
                "Chispita",
                "Jaca",
            ),
            Person(
                "Evaristo",
                "el baúl",
                "baúl",
                "El muelle de los lunes",
                "muelle de los lunes",
                "Trujillo",
                "29 de octubre",
                29,
                "la fideuá",
                "fideuá",
                "alcaravea",
                "Lucerito",
                "Úbeda",
            ),
        ),
    ),
    Language(
        "German",
        "de",
        (
            "Am Wochenende habe ich endlich {thing} neu gestrichen. Ich bin richtig zufrieden!",
            "Glückwunsch! Dinge, die man selbst hergerichtet hat, mag man gleich noch lieber.",
        ),
        (
            "Kannst du mir einen Roman über das Meer empfehlen?",
            "Ich empfehle dir „{title}“, einen ruhigen Roman über ein Jahr im Leben eines "
            "Leuchtturmwärters.",
        ),
        (
            "Ich habe beschlossen, am {date} nach {place} zu fahren. Ich besuche dort eine Freundin.",
            "Schöne Idee, gute Reise!",
        ),
        (
            "Kannst du mir das Rezept für {dish} geben?",
            "Hier ist das Rezept für {dish}: 1. Die Zutaten vorbereiten. 2. Bei mittlerer Hitze "
            "langsam garen. 3. Zum Schluss etwas {ingredient} dazugeben, fertig.",
        ),
        (
            "Ich habe meiner neuen Zimmerpflanze einen Namen gegeben: {plant}.",
            "Was für ein schöner Name! Möge sie gut wachsen.",
        ),
        "Danke!",
        "Was hatte ich dir erzählt, was ich am Wochenende neu gestrichen habe?",
        "Wie hieß noch mal der Roman, den du mir empfohlen hast?",
        "Wann wollte ich noch mal nach {place} fahren?",
        "Was sollte ich bei {dish} zum Schluss dazugeben?",
        "Wie heißt meine Zimmerpflanze noch mal?",
        "Welches Restaurant hast du mir für meine Reise nach {never} empfohlen?",
        {
            "small_talk": "gestrichen",
            "book": "Roman",
            "recipe": "{dish}",
            "plant": "Zimmerpflanze",
        },
        (
            Person(
                "Gesine",
                "meinen Schaukelstuhl",
                "Schaukelstuhl",
                "Die Salzschublade",
                "Salzschublade",
                "Friedrichstadt",
                "17. Mai",
                17,
                "Labskaus",
                "Labskaus",
                "Liebstöckel",
                "Knöpfchen",
                "Tangermünde",
            ),
            Person(
                "Eckhart",
                "den Gartenzaun",
                "Gartenzaun",
                "Möwenpost",
                "Möwenpost",
                "Bautzen",
                "23. Juni",
                23,
                "Pfitzauf",
                "Pfitzauf",
                "Bohnenkraut",
                "Flöckchen",
                "Goslar",
            ),
            Person(
                "Almut",
                "unseren Briefkasten",
                "Briefkasten",
                "Der Gezeitengarten",
                "Gezeitengarten",
                "Quedlinburg",
                "8. September",
                8,
                "Zwiebelkuchen",
                "Zwiebelkuchen",
                "Wacholder",
                "Pummelchen",
                "Rinteln",
            ),
            Person(
                "Hinnerk",
                "das Vogelhaus",
                "Vogelhaus",
                "Das Ankerlicht",
                "Ankerlicht",
                "Wasserburg",
                "29. Oktober",
                29,
                "Pichelsteiner",
                "Pichelsteiner",
                "Majoran",
                "Pusteblume",
                "Wernigerode",
            ),
        ),
    ),
    Language(
        "English",
        "en",
        (
            "This weekend I finally repainted {thing}. Really pleased with it!",
            "Well done! Things you've fixed up yourself always feel a bit more special.",
        ),
        (
            "Could you recommend a novel about the sea?",
            'I\'d recommend "{title}", a quiet novel about a year in the life of a '
            "lighthouse keeper.",
        ),
        (
            "I've decided to go to {place} on {date}. I'm visiting a friend there.",
            "Lovely idea, have a good trip!",
        ),
        (
            "Can you give me the recipe for {dish}?",
            "Here's the recipe for {dish}: 1. Prepare the ingredients. 2. Cook gently over a "
            "medium heat. 3. To finish, stir in a little {ingredient}, and it's ready.",
        ),
        (
            "I've given my new houseplant a name: {plant}.",
            "What a lovely name! I hope it grows well.",
        ),
        "Thanks!",
        "What was it I told you I'd repainted at the weekend?",
        "What was the title of the novel you recommended to me?",
        "When did I say I was going to {place}?",
        "For the {dish}, what was the ingredient to add at the end?",
        "What's my houseplant called again?",
        "Which restaurant did you recommend for my trip to {never}?",
        {"small_talk": "repainted", "book": "novel", "recipe": "{dish}", "plant": "houseplant"},
        (
            Person(
                "Euphemia",
                "my old sideboard",
                "sideboard",
                "The Tidewater Ledger",
                "Tidewater Ledger",
                "Tobermory",
                "May 17th",
                17,
                "cullen skink",
                "cullen skink",
                "lovage",
                "Sprocket",
                "Penzance",
            ),
            Person(
                "Ambrose",
                "the porch swing",
                "porch swing",
                "Gull Street Letters",
                "Gull Street Letters",
                "Ullapool",
                "June 23rd",
                23,
                "kedgeree",
                "kedgeree",
                "sorrel",
                "Marmalade",
                "Oban",
            ),
            Person(
                "Maisie",
                "the bird table",
                "bird table",
                "A Harbour of Thistles",
                "Harbour of Thistles",
                "Staithes",
                "September 8th",
                8,
                "pan haggerty",
                "pan haggerty",
                "chervil",
                "Dumpling",
                "Ripon",
            ),
            Person(
                "Crispin",
                "the wheelbarrow",
                "wheelbarrow",
                "The Salt Cartographer",
                "Salt Cartographer",
                "Kendal",
                "October 29th",
                29,
                "cock-a-leekie",
                "cock-a-leekie",
                "tarragon",
                "Bramble",
                "Hexham",
            ),
        ),
    ),
)
"""Six languages, four tuning people each: values in no prompt, test or other bench."""


PEOPLE = [person for language in LANGUAGES for person in language.people]
"""Every tuning person (the unit test that keeps their words out of the prompts reads it)."""

REPLY_TOKENS = 96
"""Reply cap of the bench's server (``CHATBOT_MAX_REPLY_TOKENS``), as the multilingual bench."""

PASSED_ON = ("CHATBOT_MODEL_FILE", "CHATBOT_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY")
"""The bench's own settings of the model the server uses (the embedded default when unset)."""

INDEXED_WITHIN_S = 60.0
"""How long the bench waits for an earlier conversation to be found by search."""

DONT_REMEMBER = (
    "don't remember",
    "do not remember",
    "don't recall",
    "do not recall",
    "no record",
    "haven't talked",
    "have not talked",
    "haven't discussed",
    "never discussed",
    "기억나지 않",
    "기억이 나지 않",
    "기억이 없",
    "기억하지 못",
    "기억에 없",
    "기억할 수 없",
    "覚えていない",
    "覚えておりません",
    "記憶にありません",
    "記録がありません",
    "ne me souviens pas",
    "me souviens pas",
    "aucun souvenir",
    "ne me rappelle pas",
    "no recuerdo",
    "no lo recuerdo",
    "no me acuerdo",
    "erinnere mich nicht",
    "kann mich nicht erinnern",
    "keine erinnerung",
)
"""Phrases of a reply that says it does not remember, beside ``bench.multilingual.DONT_KNOW``."""

DECLINES = re.compile(
    r"\b(?:not|no|never|cannot|sorry)\b|n't"
    r"|\bne\b|\bn'|\bpas\b|\bjamais\b"
    r"|\bnunca\b|\blo siento\b"
    r"|\bnicht\b|\bnie\b|\bkein|\bleider\b"
    r"|않|없|못|죄송"
    r"|ません|ない|申し訳"
)
"""A reply that says no, in any of the six languages ("no", "pas", "nicht", "않", "ません").

Read on a folded reply. Not enough alone: a reply that names a value counts as
inventing whatever it denies (:func:`invented`).
"""

NAMED = re.compile(
    r"\d+|\"[^\"]+\"|“[^”]+”|„[^“”]+[“”]|«[^»]+»|‹[^›]+›|「[^」]+」|『[^』]+』|(?<!\w)'[^']+'(?!\w)"
)
"""A number, or a name in quotes, in a reply: what an invented answer names."""

_QUOTES = "\"“”„«»‹›「」『』' "

MEASURES = {
    "answered": ("questions about an earlier conversation answered from it", ">= 80%"),
    "invented": ("questions about a conversation that never happened answered anyway", "<= 10%"),
    "other_user": ("of those, replies naming another user's detail", "0%"),
    "deleted_used": ("questions about a deleted conversation answered from it", "0%"),
    "indexed": ("earlier conversations search finds for their owner (setup check)", "100%"),
    "isolated": ("earlier conversations search does not find for another user", "100%"),
}
"""Every counted measure: its key, what it counts, its goal (issue 30's)."""


@dataclass(frozen=True)
class Earlier:
    """One earlier conversation: its kind, its fixed messages, what search must find."""

    kind: str
    messages: tuple[tuple[str, str], ...]
    probe: str
    """A word of the conversation the owner's search must find (its expected value, mostly)."""


@dataclass(frozen=True)
class Question:
    """A question in a new conversation, and the values a reply is judged by."""

    kind: str
    """``small_talk``, ``book``, ``plan``, ``recipe``, ``deleted``, ``never`` or ``other_user``."""
    text: str
    answers: tuple[str, ...]
    """What an answer names: the expected value, or what a leak would name."""


def fill(template: str, language: Language, person: Person) -> str:
    """Return ``template`` with the person's values."""
    return template.format(
        thing=person.thing,
        title=person.title,
        place=person.place,
        date=person.date,
        dish=person.dish,
        dish_key=person.dish_key,
        ingredient=person.ingredient,
        plant=person.plant,
        never=person.never,
    )


def earlier_conversations(language: Language, person: Person) -> list[Earlier]:
    """Return the person's five earlier conversations, the deleted one last."""
    pairs = {
        "small_talk": (language.small_talk, person.thing_key),
        "book": (language.book, person.title_key),
        "plan": (language.plan, person.place),
        "recipe": (language.recipe, person.ingredient),
        DELETED: (language.plant, person.plant),
    }
    return [
        Earlier(
            kind,
            (("user", fill(said, language, person)), ("assistant", fill(reply, language, person))),
            probe,
        )
        for kind, ((said, reply), probe) in pairs.items()
    ]


def questions(language: Language, person: Person, other: Person) -> list[Question]:
    """Return the person's questions: one per earlier conversation, the deleted one, two never had.

    ``other`` is another user of the same run, whose plan this user is asked about.
    """
    return [
        Question(
            "small_talk", fill(language.ask_small_talk, language, person), (person.thing_key,)
        ),
        Question("book", fill(language.ask_book, language, person), (person.title_key,)),
        Question(
            "plan",
            fill(language.ask_plan, language, person),
            day_answers(language.code, person.day),
        ),
        Question("recipe", fill(language.ask_recipe, language, person), (person.ingredient,)),
        Question("deleted", fill(language.ask_plant, language, person), (person.plant,)),
        Question("never", fill(language.ask_never, language, person), ()),
        Question(
            "other_user",
            fill(language.ask_plan, language, other),
            day_answers(language.code, other.day),
        ),
    ]


def names(reply: str, answers: tuple[str, ...]) -> bool:
    """Tell whether ``reply`` names any of ``answers``.

    As ``bench.multilingual.holds_any``, except that an answer with a Korean or
    Japanese character after its digits ("17일", "17日") is found inside words.
    """
    inside = tuple(a for a in answers if a[:1].isdigit() and not a.isascii())
    return holds_any(reply, tuple(a for a in answers if a not in inside)) or any(
        folded(answer) in folded(reply) for answer in inside
    )


def names_something(reply: str, question: str) -> bool:
    """Tell whether ``reply`` names a number or a quoted name that ``question`` does not."""
    asked = folded(question)
    return any(folded(found.group().strip(_QUOTES)) not in asked for found in NAMED.finditer(reply))


def invented(reply: str, question: str) -> bool:
    """Tell whether a reply to a question about something never said makes it up.

    It does when it names a number or a quoted name the question did not
    ("「屋久島料理」です", "2026年12月7日に"); else when it neither says it does
    not know or remember, nor asks, nor declines: "영덕에 갔을 때는 몇 년
    전이었어요" invents, "Je ne peux pas vous conseiller de restaurants" does not.
    """
    if names_something(reply, question):
        return True
    return not (says_it_does_not_remember(reply) or DECLINES.search(folded(reply)))


def says_it_does_not_remember(reply: str) -> bool:
    """Tell whether a reply says it does not know or remember, or asks (``invents`` is False)."""
    lowered = folded(reply).replace("\u2019", "'")
    return not invents(reply) or any(folded(phrase) in lowered for phrase in DONT_REMEMBER)


def approximate_tokens(text: str) -> int:
    """Approximate a text's tokens: one a CJK or Hangul character, one per 4 other characters."""
    wide = sum(1 for c in text if "\u2e80" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af")
    return wide + round((len(text) - wide) / 4)


@dataclass
class Tally:
    """Hits and cases of every measure, and the per-question costs, for one language or all."""

    hits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MEASURES, 0))
    cases: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MEASURES, 0))
    first_token_ms: list[float] = field(default_factory=list)
    prompt_chars: list[int] = field(default_factory=list)
    prompt_tokens: list[int] = field(default_factory=list)

    def count(self, measure: str, hit: bool) -> None:
        """Add one case of ``measure``."""
        self.hits[measure] += hit
        self.cases[measure] += 1

    def add(self, other: Tally) -> None:
        """Add every case and cost of ``other``."""
        for measure in MEASURES:
            self.hits[measure] += other.hits[measure]
            self.cases[measure] += other.cases[measure]
        self.first_token_ms += other.first_token_ms
        self.prompt_chars += other.prompt_chars
        self.prompt_tokens += other.prompt_tokens

    def share(self, measure: str) -> str:
        """Return the measure as a percentage, or n/a without cases."""
        cases = self.cases[measure]
        return f"{100 * self.hits[measure] / cases:.0f}%" if cases else "n/a"

    def cell(self, measure: str) -> str:
        """Return the measure as ``percent (hits/cases)``."""
        return f"{self.share(measure)} ({self.hits[measure]}/{self.cases[measure]})"

    def medians(self) -> tuple[str, str, str]:
        """Return the median first token, prompt characters and prompt tokens, as cells."""
        if not self.first_token_ms:
            return "n/a", "n/a", "n/a"
        return (
            f"{statistics.median(self.first_token_ms):,.0f} ms",
            f"{statistics.median(self.prompt_chars):,.0f}",
            f"{statistics.median(self.prompt_tokens):,.0f}",
        )


def judge(tally: Tally, question: Question, reply: str) -> dict[str, Any]:
    """Count one question's reply; return what was judged, for the log."""
    if question.kind in KINDS:
        hit = names(reply, question.answers)
        tally.count("answered", hit)
        return {"answered": hit}
    if question.kind == "deleted":
        used = names(reply, question.answers)
        tally.count("deleted_used", used)
        return {"deleted_used": used}
    made_up = invented(reply, question.text)
    tally.count("invented", made_up)
    judged: dict[str, Any] = {"invented": made_up}
    if question.kind == "other_user":
        leaked = names(reply, question.answers)
        tally.count("other_user", leaked)
        judged["other_user"] = leaked
    return judged


def client_for(url: str, user_id: str, secret: str) -> LangGraphClient:
    """Return an SDK client that speaks as ``user_id``."""
    token = create_token(user_id, secret)
    return get_client(url=url, api_key=None, headers={"Authorization": f"Bearer {token}"})


async def turn(client: LangGraphClient, thread: str, text: str) -> dict[str, Any]:
    """Run one turn; return the reply, its first token (ms) and its prompt's size."""
    started = time.perf_counter()
    first: float | None = None
    prompt: list[Any] = []
    async for part in client.runs.stream(thread, GRAPH_ID, input=user(text), stream_mode="events"):
        if part.event == "error":
            raise RuntimeError(f"the run failed: {part.data}")
        event = part.data if isinstance(part.data, dict) else {}
        node = (event.get("metadata") or {}).get("langgraph_node")
        if event.get("event") == "on_chat_model_start" and node == "model" and first is None:
            given = event["data"]["input"]["messages"]
            prompt = given[0] if given and isinstance(given[0], list) else given
        if event.get("event") == "on_chat_model_stream" and node == "model" and first is None:
            chunk = event["data"].get("chunk") or {}
            if isinstance(chunk, dict) and chunk.get("content"):
                first = time.perf_counter() - started
    state: Any = await client.threads.get_state(thread)
    reply = str(state["values"]["messages"][-1]["content"])
    text_of_prompt = "\n".join(
        str(m.get("content", "")) if isinstance(m, dict) else str(m) for m in prompt
    )
    return {
        "reply": reply,
        "first_token_ms": None if first is None else round(first * 1000),
        "prompt_messages": len(prompt),
        "prompt_chars": len(text_of_prompt),
        "prompt_tokens": approximate_tokens(text_of_prompt),
    }


async def search_finds(client: LangGraphClient, word: str) -> set[str]:
    """Return the threads whose messages ``GET /chatbot/search`` finds ``word`` in, for the caller."""
    found: Any = await client.http.get("/chatbot/search", params={"q": word, "limit": 100})
    return {hit["thread_id"] for hit in found["hits"]}


@dataclass
class Someone:
    """One person of the run: who, their client, their earlier threads."""

    language: Language
    person: Person
    user_id: str
    client: LangGraphClient
    threads: dict[str, str] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)


async def write_history(someone: Someone, last_node: str) -> None:
    """Write the person's earlier conversations as an import does, then run each one's last turn."""
    for earlier in earlier_conversations(someone.language, someone.person):
        messages = [{"role": role, "content": text} for role, text in earlier.messages]
        request = import_request("", None, messages, GRAPH_ID, last_node)
        thread = (await someone.client.threads.create(**request))["thread_id"]
        someone.threads[earlier.kind] = thread
        closing = await turn(someone.client, thread, someone.language.thanks)
        someone.log.append({"earlier": earlier.kind, "messages": messages, "closing": closing})


async def check_search(someone: Someone, stranger: Someone, tally: Tally) -> None:
    """Count whether search finds each earlier conversation for its owner, and not for another."""
    for earlier in earlier_conversations(someone.language, someone.person):
        thread = someone.threads[earlier.kind]
        deadline = time.monotonic() + INDEXED_WITHIN_S
        found = await search_finds(someone.client, earlier.probe)
        while thread not in found and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            found = await search_finds(someone.client, earlier.probe)
        tally.count("indexed", thread in found)
        if stranger is not someone:
            found = await search_finds(stranger.client, earlier.probe)
            tally.count("isolated", thread not in found)


async def ask(someone: Someone, other: Person | None, tally: Tally, verbose: bool) -> None:
    """Ask each question in a new conversation of its own; judge and time it."""
    for question in questions(someone.language, someone.person, other or someone.person):
        if other is None and question.kind == "other_user":
            continue
        thread = (await someone.client.threads.create())["thread_id"]
        asked = await turn(someone.client, thread, question.text)
        judged = judge(tally, question, asked["reply"])
        if asked["first_token_ms"] is not None:
            tally.first_token_ms.append(asked["first_token_ms"])
        tally.prompt_chars.append(asked["prompt_chars"])
        tally.prompt_tokens.append(asked["prompt_tokens"])
        entry = {"question": question.kind, "said": question.text, **asked, **judged}
        entry["expected"] = list(question.answers)
        someone.log.append(entry)
        if verbose:
            print(json.dumps(entry, ensure_ascii=False), flush=True)


def people_of(language: Language, people_set: str) -> tuple[Person, ...]:
    """Return the people of ``language`` in the tuning or the held-out set."""
    if people_set == HELD_OUT_SET:
        from bench.conversation_recall_held_out import HELD_OUT

        return HELD_OUT[language.code]
    return language.people


def other_of(someone: Someone, everyone: list[Someone]) -> Person | None:
    """Return the user whose plan ``someone`` is asked about: the next of their language run.

    With one person of the language in the run, the next person of the run; with
    one person in all, nobody (that question is left out).
    """
    same = [o for o in everyone if o.language is someone.language]
    pool = same if len(same) > 1 else everyone
    other = pool[(pool.index(someone) + 1) % len(pool)]
    return None if other is someone else other.person


async def run(
    url: str,
    secret: str,
    chosen: list[Language],
    per_language: int | None,
    people_set: str,
    verbose: bool,
) -> tuple[dict[str, Tally], list[dict[str, Any]]]:
    """Write every chosen person's history, check search, delete, ask; return tallies and log."""
    everyone: list[Someone] = []
    for language in chosen:
        for number, person in enumerate(people_of(language, people_set)[:per_language]):
            user_id = f"recall-{language.code}-{number}"
            everyone.append(Someone(language, person, user_id, client_for(url, user_id, secret)))
    last_node = final_node(await everyone[0].client.assistants.get_graph(GRAPH_ID))
    tallies = {language.name: Tally() for language in chosen}
    began = time.monotonic()
    for someone in everyone:
        await write_history(someone, last_node)
        print(f"history of {someone.person.name}: {time.monotonic() - began:.0f} s", flush=True)
    for index, someone in enumerate(everyone):
        stranger = everyone[(index + 1) % len(everyone)]
        await check_search(someone, stranger, tallies[someone.language.name])
        await someone.client.threads.delete(someone.threads[DELETED])
    for someone in everyone:
        await ask(someone, other_of(someone, everyone), tallies[someone.language.name], verbose)
        print(f"questions of {someone.person.name}: {time.monotonic() - began:.0f} s", flush=True)
    log = [
        {"language": s.language.name, "person": s.person.name, "user": s.user_id, "turns": s.log}
        for s in everyone
    ]
    for someone in everyone:
        await someone.client.http.client.aclose()
    return tallies, log


def sum_of(tallies: dict[str, Tally]) -> Tally:
    """Return the cases and costs of every language together."""
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    return total


def table(tallies: dict[str, Tally]) -> list[str]:
    """Return the per-language table (and the total, and the goals), as Markdown."""
    heads = ["Language", *MEASURES, "median first token", "median prompt chars", "~tokens"]
    lines = ["| " + " | ".join(heads) + " |", "|---|" + "---:|" * (len(heads) - 1)]
    for name, tally in tallies.items():
        cells = [tally.cell(m) for m in MEASURES] + list(tally.medians())
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    goals = [goal for _what, goal in MEASURES.values()]
    lines.append("| goal | " + " | ".join(goals) + " | | | |")
    return lines


def summary_line(total: Tally) -> str:
    """Return the last line the bench prints."""
    first, chars, tokens = total.medians()
    shares = " ".join(f"{m}={total.share(m)}" for m in MEASURES)
    return (
        f"conversation_recall: {shares} first_token={first.replace(' ', '')} "
        f"prompt_chars={chars} prompt_tokens~{tokens}"
    )


def markdown(facts: dict[str, Any], tallies: dict[str, Tally], total: Tally) -> str:
    """Return the results page: provenance, the table, what each column counts."""
    dirty = facts["uncommitted_in_src"]
    lines = [
        f"# Recall of earlier conversations, {facts['date']}",
        "",
        f"Commit `{facts['commit']}`"
        + (f" with uncommitted changes in src/ ({'; '.join(dirty)})" if dirty else "")
        + f"; model `{facts['model_file']}`; {facts['machine']}; "
        + f"replies capped at {REPLY_TOKENS} tokens; temperature 0; memory of facts "
        + ("on" if facts["remember"] else "off")
        + f"; {facts['people']} people ({facts['people_set']} set); {facts['seconds']} s "
        + "(`python -m bench.conversation_recall`, through `langgraph dev` and the SDK).",
        "",
        *table({**tallies, "all": total}),
        "",
        f"`{summary_line(total)}`",
        "",
        *(f"- `{measure}`: {what}" for measure, (what, _goal) in MEASURES.items()),
        "- first token: ms from the request to the reply's first streamed token, every question;",
        "  prompt: the reply's model call's messages, characters and approximate tokens",
        "  (one a CJK or Hangul character, one per 4 others), every question.",
        "",
        "Every earlier conversation, question, reply and prompt size is in the JSON file of the",
        "same name.",
    ]
    return "\n".join(lines) + "\n"


def write(out: Path, facts: dict[str, Any], tallies: dict[str, Tally], log: list[Any]) -> Path:
    """Write the results as JSON and Markdown under ``out``; return their path without suffix."""
    total = sum_of(tallies)
    out.mkdir(parents=True, exist_ok=True)
    held_out = "held-out-" if facts["people_set"] == HELD_OUT_SET else ""
    stem = out / f"conversation-recall-{held_out}{facts['commit'][:7] or 'unknown'}"
    everyone = {**tallies, "all": total}
    results = {
        **facts,
        "measures": {
            name: {
                "hits": t.hits,
                "cases": t.cases,
                "first_token_ms": t.first_token_ms,
                "prompt_chars": t.prompt_chars,
                "prompt_tokens": t.prompt_tokens,
            }
            for name, t in everyone.items()
        },
        "people_log": log,
    }
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    stem.with_suffix(".md").write_text(markdown(facts, tallies, total))
    return stem


def rejudge(path: Path) -> Path:
    """Judge the replies of a results file again with today's judge; write ``*-rejudged.md``.

    The replies, prompts and timings are the file's; the search checks
    (``indexed``, ``isolated``) are taken as they were counted.
    """
    results = json.loads(path.read_text())
    tallies: dict[str, Tally] = {}
    for person in results["people_log"]:
        tally = tallies.setdefault(person["language"], Tally())
        for turn in person["turns"]:
            if "question" not in turn:
                continue
            asked = Question(turn["question"], turn["said"], tuple(turn["expected"]))
            judge(tally, asked, turn["reply"])
            tally.first_token_ms.append(turn["first_token_ms"])
            tally.prompt_chars.append(turn["prompt_chars"])
            tally.prompt_tokens.append(turn["prompt_tokens"])
    for name, tally in tallies.items():
        for measure in ("indexed", "isolated"):
            tally.hits[measure] = results["measures"][name]["hits"][measure]
            tally.cases[measure] = results["measures"][name]["cases"][measure]
    judged_at = git("rev-parse", "--short", "HEAD")
    page = markdown(results, tallies, sum_of(tallies)).replace(
        "\n\n|",
        f"\n\nJudged again at `{judged_at}` (`python -m bench.conversation_recall --rejudge`): "
        "the replies are the run's, the judge is today's.\n\n|",
        1,
    )
    out = path.with_name(f"{path.stem}-rejudged.md")
    out.write_text(page)
    print("\n".join(table({**tallies, "all": sum_of(tallies)})))
    print(summary_line(sum_of(tallies)))
    return out


def main() -> None:
    """Start a dev server with the embedded model, run the chosen people, stop it; report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, help="people per language (default: all)")
    parser.add_argument(
        "--held-out", action="store_true", help="run the held-out people (report only)"
    )
    parser.add_argument(
        "--languages",
        default=",".join(language.code for language in LANGUAGES),
        help="comma-separated codes (ko,ja,fr,es,de,en)",
    )
    parser.add_argument("--remember", action="store_true", help="memory of facts on")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--verbose", action="store_true", help="print every question's reply")
    parser.add_argument(
        "--rejudge", type=Path, help="judge a results JSON's replies again (no model, no server)"
    )
    args = parser.parse_args()
    if args.rejudge:
        print(f"wrote {rejudge(args.rejudge)}")
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop the server below
    people_set = HELD_OUT_SET if args.held_out else TUNING
    codes = args.languages.split(",")
    chosen = [language for language in LANGUAGES if language.code in codes]
    secret = secrets.token_hex(32)
    model = model_file()
    started = time.monotonic()
    print(f"code at {git('rev-parse', '--short', 'HEAD')}; model {model.name}", flush=True)
    with tempfile.TemporaryDirectory(prefix="conversation-recall-") as workdir:
        write_config(Path(workdir))
        env = server_environment(
            CHATBOT_AUTH_SECRET=secret,
            CHATBOT_DATA_DIR=str(Path(workdir) / "data"),
            CHATBOT_MAX_REPLY_TOKENS=str(REPLY_TOKENS),
            CHATBOT_REMEMBER="true" if args.remember else "false",
        )
        for name in PASSED_ON:
            if name in os.environ:
                env[name] = os.environ[name]
        server = DevServer(workdir=Path(workdir), port=free_port(), env=env)
        server.start()
        try:
            tallies, log = asyncio.run(
                run(server.url, secret, chosen, args.people, people_set, args.verbose)
            )
        finally:
            server.stop()
    people = len(log)
    facts = provenance(model, time.monotonic() - started, people, 0, people_set)
    facts["remember"] = args.remember
    if "OPENAI_BASE_URL" in os.environ or "OPENAI_API_KEY" in os.environ:
        endpoint = os.environ.get("OPENAI_BASE_URL", "OpenAI")
        facts["model_file"] = f"{os.environ.get('CHATBOT_MODEL', '')} at {endpoint}"
    stem = write(args.out, facts, tallies, log)
    print("\n".join(table({**tallies, "all": sum_of(tallies)})))
    print(f"wrote {stem}.md and .json ({facts['seconds']} s)")
    print(summary_line(sum_of(tallies)))


if __name__ == "__main__":
    main()
