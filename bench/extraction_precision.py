"""Does memory save only what users say about themselves? Requests, stories and others' facts.

Each message goes the way ``agent.memory.learning`` reads a user's message:
:func:`agent.memory.extraction.worth_asking`, then the extraction prompt to the
model in use (the embedded one by default, temperature 0), then
:func:`agent.memory.extraction.parse` (grounding). Two kinds of message, in
Korean, Japanese, French, Spanish, German and English:

- **quiet**: states nothing lasting about the user: a request naming things
  or people ("write", "translate", "tell me"), a how-to question, a novel's
  hero, a colleague's hobby, a fact about the world, pasted text, code. Any
  fact saved from one is a **false memory** (goal: at most 2% of them);
- **about the user**: their own name, home, work, pet, tastes. **Saved**
  counts the expected facts found (it must not fall below what it was).

Two sets: :data:`TUNING`, to change the extraction against, and
:data:`HELD_OUT` (eight quiet messages and four about the user a language),
written before any tuning and run only to report (``--held-out``). Names and
places here are in no prompt, test or other bench.

A third set, ``--people`` (:func:`people_cases`), guards the other side: the
introductions and moves of ``bench.multilingual``'s tuning people (60
messages, 120 facts), every one about the user. An extraction told more firmly
what to leave out has answered ``none`` to "the month before, I moved to ..."
in French, Spanish and German; this set shows it in minutes, where the
multilingual bench takes an hour.

    .venv/bin/python -m bench.extraction_precision              # tuning set, ~2 min
    .venv/bin/python -m bench.extraction_precision --held-out   # report only, ~3 min
    .venv/bin/python -m bench.extraction_precision --people     # what must still be saved, ~4 min
    .venv/bin/python -m bench.extraction_precision --url http://127.0.0.1:11434/v1 --model qwen2.5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field

from langchain_openai import ChatOpenAI

from agent.conversation.likeness import fold
from agent.memory import extraction
from bench.memory_quality import EXTRACTION_CAP, model_endpoint, share
from bench.multilingual import LANGUAGES

Case = tuple[str, tuple[str, ...]]
"""A message and the words its facts must hold (none: a quiet message)."""

TUNING: dict[str, list[Case]] = {
    "Korean": [
        ("바다에 사는 고래에 대한 동화를 써 주세요.", ()),
        ("제 친구 상우는 요리사예요.", ()),
        ("이 문장을 일본어로 바꿔 주세요: 저는 학생입니다.", ()),
        ("저는 두리라고 해요. 세탁소를 운영해요.", ("두리", "세탁소")),
        ("한라산은 제주도에 있는 산이에요.", ()),
        ("된장국 맛있게 끓이는 방법 알려 줘.", ()),
        ("이 문자를 요약해 줘: '안녕, 나 삼척 사는 기범이야. 내일 모임 취소할게.'", ()),
        ("이 코드 설명해 줘: name = '소담'; print(name)", ()),
        ("저는 당근을 정말 싫어해요.", ("당근",)),
        ("우리 집 강아지 이름은 인절미예요.", ("인절미",)),
    ],
    "Japanese": [
        ("猫が主人公の短い詩を書いてください。", ()),
        ("兄の友達の拓海は医者です。", ()),
        ("私は翔といいます。パン屋で働いています。", ("翔", "パン屋")),
        ("琵琶湖は日本で一番大きい湖です。", ()),
        ("おいしい卵焼きの作り方を教えて。", ()),
        ("このメッセージを要約して：「もしもし、稚内の小野寺です。会議を明日に変更します。」", ()),
        ("このコードを説明して：name = '美羽'; print(name)", ()),
        ("私はセロリが大嫌いです。", ("セロリ",)),
        ("うちの猫の名前はきなこです。", ("きなこ",)),
    ],
    "French": [
        ("Raconte-moi une blague sur un boulanger qui s'appelle Norbert.", ()),
        ("Mon voisin Lazare élève des abeilles.", ()),
        ("Je m'appelle Eudoxie et je suis fleuriste.", ("Eudoxie", "fleuriste")),
        ("Le Mont-Blanc est le plus haut sommet des Alpes.", ()),
        ("Donne-moi la recette de la ratatouille.", ()),
        ("Résume ce mail : « Salut, c'est Théodule de Lannion, je serai en retard demain. »", ()),
        ("Explique ce code : def accueil(prenom='Honorine'): return prenom", ()),
        ("Je n'aime pas du tout les betteraves.", ("betterave",)),
        ("Ma chienne s'appelle Praline.", ("Praline",)),
    ],
    "Spanish": [
        ("Escribe un poema sobre el mar de Asturias.", ()),
        ("La novia de mi amigo se llama Fermina.", ()),
        ("Soy Nicanor y trabajo de cartero.", ("Nicanor", "cartero")),
        ("El Teide es el pico más alto de España.", ()),
        ("Dame la receta del gazpacho andaluz.", ()),
        ("Resume este mensaje: «Hola, soy Teodomiro de Almazán, llego tarde a la reunión».", ()),
        ("Explica este código: def hola(nombre='Leocadia'): return nombre", ()),
        ("Odio la remolacha.", ("remolacha",)),
        ("Mi gata se llama Galleta.", ("Galleta",)),
    ],
    "German": [
        ("Schreib ein Gedicht über einen Bäcker namens Ludger.", ()),
        ("Der Nachbar meiner Freundin heißt Gottfried.", ()),
        ("Ich bin Irmgard und arbeite als Hebamme.", ("Irmgard", "Hebamme")),
        ("Die Zugspitze ist der höchste Berg Deutschlands.", ()),
        ("Gib mir ein Rezept für Kartoffelsalat.", ()),
        (
            "Fasse diese Nachricht zusammen: „Hi, hier ist Volkmar aus Ansbach, ich komme später.“",
            (),
        ),
        ("Erklär diesen Code: def hallo(name='Hiltrud'): return name", ()),
        ("Ich hasse Fenchel.", ("Fenchel",)),
        ("Mein Hund heißt Wuschel.", ("Wuschel",)),
    ],
    "English": [
        ("Tell me a story about a lighthouse keeper.", ()),
        ("Write a limerick about a cat named Pudding.", ()),
        ("My friend's brother Cuthbert is a pilot.", ()),
        ("I'm Ignatius and I teach chemistry.", ("Ignatius", "chemistry")),
        ("Mount Everest is the highest mountain on Earth.", ()),
        ("Give me a recipe for shepherd's pie.", ()),
        ("Summarize this text: 'Hey, it's Reginald from Grimsby, I'll be late tomorrow.'", ()),
        ("Explain this code: def hello(name='Ottoline'): return name", ()),
        ("I really dislike mushrooms.", ("mushroom",)),
        ("My parrot is called Marmaduke.", ("Marmaduke",)),
    ],
}
"""Messages to tune the extraction against."""

HELD_OUT: dict[str, list[Case]] = {
    "Korean": [
        ("등대지기에 대한 200단어짜리 이야기를 써 주세요.", ()),
        ("'제 이름은 미나예요'를 영어로 번역해 주세요.", ()),
        ("김치찌개 끓이는 법을 알려 주세요.", ()),
        ("소설 속 주인공 복순이는 제주에 사는 해녀예요. 다음 장면을 써 주세요.", ()),
        ("제 직장 동료 정훈 씨는 주말마다 암벽 등반을 해요.", ()),
        ("세종대왕은 한글을 만들었어요.", ()),
        ("이 이메일을 요약해 주세요: '안녕하세요, 저는 대전에 사는 박영호입니다.'", ()),
        ("파이썬 코드 print('하니') 가 무엇을 하는지 설명해 주세요.", ()),
        ("제 이름은 가온이에요.", ("가온",)),
        ("저는 울산에서 간호사로 일해요.", ("울산", "간호사")),
        ("제 거북이 이름은 느림보예요.", ("느림보",)),
        ("저는 오이를 싫어해요.", ("오이",)),
    ],
    "Japanese": [
        ("灯台守についての短い物語を書いてください。", ()),
        ("「私の名前は健太です」を英語に訳してください。", ()),
        ("味噌汁の作り方を教えてください。", ()),
        ("小説の主人公・紗良は横浜の探偵です。続きを書いてください。", ()),
        ("同僚の大輔さんは毎週末サーフィンをしています。", ()),
        ("富士山は日本で一番高い山です。", ()),
        ("このメールを要約して：「こんにちは、名古屋の佐々木です。」", ()),
        ("Pythonの print('ゆい') が何をするか説明してください。", ()),
        ("私の名前は奏太です。", ("奏太",)),
        ("高知で看護師をしています。", ("高知", "看護師")),
        ("うちのハムスターはだいふくといいます。", ("だいふく",)),
        ("私はピーマンが苦手です。", ("ピーマン",)),
    ],
    "French": [
        ("Écris-moi une histoire de 200 mots sur un gardien de phare.", ()),
        ("Traduis en anglais : « Je m'appelle Lucienne et j'habite à Dijon. »", ()),
        ("Explique-moi comment faire une pâte à crêpes.", ()),
        ("Le héros de mon roman, Anatole, est un marin breton. Écris la suite.", ()),
        ("Ma collègue Sidonie fait de l'escalade tous les week-ends.", ()),
        ("La tour Eiffel a été construite pour l'Exposition universelle de 1889.", ()),
        ("Résume ce message : « Bonjour, ici Aristide d'Angers, je décale le rendez-vous. »", ()),
        ("Explique ce code : def saluer(nom='Clémence'): print(nom)", ()),
        ("Je m'appelle Firmin.", ("Firmin",)),
        ("Je suis boulangère à Tours.", ("boulang", "Tours")),
        ("Mon perroquet s'appelle Zéphyr.", ("Zéphyr",)),
        ("Je déteste les épinards.", ("épinard",)),
    ],
    "Spanish": [
        ("Escríbeme un cuento de 200 palabras sobre un farero.", ()),
        ("Traduce al inglés: «Me llamo Remedios y vivo en Vigo».", ()),
        ("Explícame cómo se hace una tortilla de patatas.", ()),
        ("El protagonista de mi novela, Casimiro, es un pirata de Cádiz. Continúa.", ()),
        ("Mi compañero de trabajo, Fulgencio, juega al pádel todos los días.", ()),
        ("Madrid es la capital de España.", ()),
        ("Resume este correo: «Hola, soy Eulalia de Zaragoza y quiero cambiar la cita».", ()),
        ("Explica este código: def saludar(nombre='Rocío'): print(nombre)", ()),
        ("Me llamo Baltasar.", ("Baltasar",)),
        ("Trabajo de fontanero en Burgos.", ("fontanero", "Burgos")),
        ("Mi perro se llama Tostón.", ("Tostón",)),
        ("No soporto el cilantro.", ("cilantro",)),
    ],
    "German": [
        ("Schreib mir eine Geschichte über einen Leuchtturmwärter.", ()),
        ("Übersetze ins Englische: „Ich heiße Ottilie und wohne in Greifswald.“", ()),
        ("Erklär mir, wie man Spätzle macht.", ()),
        ("Der Held meines Romans, Quirin, ist Bergführer in Garmisch. Schreib weiter.", ()),
        ("Mein Kollege Hartmut geht jeden Sonntag segeln.", ()),
        ("Berlin ist die Hauptstadt Deutschlands.", ()),
        ("Fasse zusammen: „Hallo, hier ist Gerlinde aus Kiel, ich verschiebe den Termin.“", ()),
        ("Erkläre diesen Code: def gruss(name='Wolfram'): print(name)", ()),
        ("Ich heiße Eberhard.", ("Eberhard",)),
        ("Ich arbeite als Tischler in Lindau.", ("Tischler", "Lindau")),
        ("Mein Wellensittich heißt Pieps.", ("Pieps",)),
        ("Ich mag keinen Rosenkohl.", ("Rosenkohl",)),
    ],
    "English": [
        ("Write a 200-word story about a lighthouse.", ()),
        ("Tell me a story about a fisherman named Ebenezer.", ()),
        ("Translate into French: 'My name is Winifred and I live in Bristol.'", ()),
        ("Explain how to bake sourdough bread.", ()),
        ("The hero of my novel, Barnaby, is a detective in Whitby. Continue the story.", ()),
        ("My colleague Algernon goes climbing every weekend.", ()),
        ("Summarize this email: 'Hi, this is Mortimer from Exeter, can we move the call?'", ()),
        ("Explain this code: def greet(name='Clementine'): print(name)", ()),
        ("My name is Percival.", ("Percival",)),
        ("I work as an electrician in Norwich.", ("electrician", "Norwich")),
        ("My tortoise is called Sheldon.", ("Sheldon",)),
        ("I can't stand olives.", ("olive",)),
    ],
}
"""Held out: written before tuning, run only to report."""


def people_cases() -> dict[str, list[Case]]:
    """Return each tuning person's introduction (name, city, one more fact) and move (the city)."""
    cases: dict[str, list[Case]] = {}
    for language in LANGUAGES:
        for person in language.people:
            introduced = (person.name, person.city, person.fact_answers[0])
            cases.setdefault(language.name, []).append((person.intro, introduced))
            cases[language.name].append((person.correction, (person.moved,)))
    return cases


@dataclass
class Tally:
    """What the extraction did with one language's messages."""

    quiet: int = 0
    quiet_saved: int = 0
    expected: int = 0
    found: int = 0
    false_memories: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


async def facts_of(model: ChatOpenAI, message: str) -> list[tuple[str, str]]:
    """Return the facts (topic, value) memory would save from ``message``."""
    if not extraction.worth_asking(message):
        return []
    reply = await model.ainvoke(extraction.prompt(message))
    return [(fact.topic, fact.text) for fact in extraction.parse(str(reply.content), message)]


async def run(cases: dict[str, list[Case]], url: str | None, name: str) -> dict[str, Tally]:
    """Read every message as memory does; return a tally per language."""
    tallies: dict[str, Tally] = {}
    async with model_endpoint(url) as base_url:
        model = ChatOpenAI(
            model=name,
            base_url=base_url,
            api_key="none",  # type: ignore[arg-type]
            temperature=0,
            extra_body={"max_tokens": EXTRACTION_CAP},
        )
        for language, messages in cases.items():
            tally = tallies.setdefault(language, Tally())
            for message, expected in messages:
                started = time.perf_counter()
                facts = await facts_of(model, message)
                tally.seconds.append(time.perf_counter() - started)
                print(json.dumps({"said": message, "kept": facts}, ensure_ascii=False), flush=True)
                if not expected:
                    tally.quiet += 1
                    if facts:
                        tally.quiet_saved += 1
                        tally.false_memories.append(f"{message} -> {facts}")
                    continue
                for word in expected:
                    tally.expected += 1
                    if any(fold(word) in fold(text) for _topic, text in facts):
                        tally.found += 1
                    else:
                        tally.misses.append(f"{word} not in {facts} ({message})")
    return tallies


def report(tallies: dict[str, Tally], set_name: str) -> list[str]:
    """Return the per-language table as Markdown, then every false memory and miss."""
    lines = [
        f"Extraction precision, {set_name} set",
        "",
        "| Language | quiet messages that saved a fact (goal <= 2%) | facts about the user saved |",
        "|---|---:|---:|",
    ]
    total = Tally()
    for language, tally in tallies.items():
        lines.append(
            f"| {language} | {share(tally.quiet_saved, tally.quiet)} | "
            f"{share(tally.found, tally.expected)} |"
        )
        total.quiet += tally.quiet
        total.quiet_saved += tally.quiet_saved
        total.expected += tally.expected
        total.found += tally.found
    lines.append(
        f"| all | {share(total.quiet_saved, total.quiet)} | {share(total.found, total.expected)} |"
    )
    for language, tally in tallies.items():
        lines += [f"- {language}, false memory: {entry}" for entry in tally.false_memories]
        lines += [f"- {language}, missed: {entry}" for entry in tally.misses]
    lines.append(
        f"\nprecision: false_memories={share(total.quiet_saved, total.quiet)} "
        f"saved={share(total.found, total.expected)}"
    )
    return lines


async def main() -> None:
    """Run the chosen set against the model in use and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--held-out", action="store_true", help="the held-out set: report only")
    chosen.add_argument("--people", action="store_true", help="the multilingual people's own facts")
    parser.add_argument("--url", help="an OpenAI-compatible base URL (default: the embedded model)")
    parser.add_argument("--model", default="local", help="the model name to ask for")
    args = parser.parse_args()
    cases, set_name = (TUNING, "tuning")
    if args.held_out:
        cases, set_name = HELD_OUT, "held-out"
    elif args.people:
        cases, set_name = people_cases(), "people"
    tallies = await run(cases, args.url, args.model)
    print("\n".join(report(tallies, set_name)))


if __name__ == "__main__":
    asyncio.run(main())
