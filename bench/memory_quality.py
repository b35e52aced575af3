"""Memory across conversations, measured with the model in use (the embedded one by default).

Two parts. ``--extraction`` asks the model the extraction prompt directly
(no graph, no server) for :data:`STATEMENTS`, statements in seven languages
(introductions, moves, free-form facts, small talk and facts about other
things), and scores what ``agent.memory.extraction.parse`` keeps: expected
facts found, found under the right topic, saved when nothing should be,
answer length in tokens (what the extraction's max-tokens cap must allow)
and time per call.

The default part goes through a real ``langgraph dev`` with memory on and auth on, each person of
:data:`PEOPLE` is their own user (a token each, so memories never mix):

1. thread A: "Hi! I'm {name}, I live in {home} and I love {hobby}."
2. once the facts are saved (learning runs after the reply), a new thread:
   "What's my name and where do I live?": *remembered* when the reply has
   both the name and the home;
3. a new thread: "Actually I moved to {moved}.": *correction applied* when the
   memory then says the user lives in {moved} (and no longer in {home});
4. with ``--ask-after-correction``, a new thread: "Where do I live now?": the
   reply names {moved}.

Every fact saved is checked against what the person said: *made up* when its
words are not in anything they wrote; *mislabelled* when they said it, but
as another kind of fact (a city saved as a name).

Then the first token: the same statement-then-question turns with memory on
and off, streamed, measuring time to the first reply token and the time the
run goes on after the reply's last token (the memory step).

    .venv/bin/python -m bench.memory_quality            # ~15 min on 2 cores
    .venv/bin/python -m bench.memory_quality --people 5 --first-token-rounds 3
    .venv/bin/python -m bench.memory_quality --extraction   # ~3 min: the extractor alone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from langchain_openai import ChatOpenAI
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent.conversation.likeness import fold
from agent.memory import extraction
from agent.memory.extraction import grounded
from agent.models.local.launcher import embedded_model_server, free_port
from agent.server.tokens import create_token
from agent.testing.dev_server import DevServer, server_environment, write_config
from agent.testing.turns import GRAPH_ID, user

SECRET = "memory-quality-bench-secret-long-enough-for-hs256"

PEOPLE: list[tuple[str, str, str, str]] = [
    ("Amara", "Accra", "Kumasi", "chess"),
    ("Bjorn", "Bergen", "Trondheim", "sailing"),
    ("Chiara", "Verona", "Bologna", "opera"),
    ("Dmitri", "Kazan", "Samara", "hockey"),
    ("Esperanza", "Oaxaca", "Puebla", "pottery"),
    ("Farid", "Tabriz", "Shiraz", "poetry"),
    ("Gulnara", "Almaty", "Astana", "archery"),
    ("Hamish", "Dundee", "Aberdeen", "golf"),
    ("Ingrid", "Uppsala", "Malmo", "skiing"),
    ("Jomo", "Kisumu", "Mombasa", "running"),
    ("Keiko", "Sapporo", "Sendai", "origami"),
    ("Lorenzo", "Cagliari", "Palermo", "cycling"),
    ("Mei", "Xiamen", "Hangzhou", "calligraphy"),
    ("Nnamdi", "Enugu", "Ibadan", "football"),
    ("Oksana", "Lviv", "Odesa", "painting"),
    ("Pedro", "Braga", "Coimbra", "surfing"),
    ("Quynh", "Hue", "Danang", "cooking"),
    ("Rashid", "Sharjah", "Muscat", "falconry"),
    ("Saoirse", "Galway", "Cork", "hurling"),
    ("Tupac", "Cusco", "Arequipa", "weaving"),
    ("Ulla", "Tampere", "Turku", "knitting"),
    ("Vikram", "Nagpur", "Indore", "cricket"),
]
"""Name, home, the home they move to, a hobby: none of these is in any prompt of the chatbot."""


ANY_TOPIC = "*"

STATEMENTS: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {
    "Korean": [
        (
            "안녕하세요, 저는 은서예요. 청주에 살고 있어요.",
            [("name", "은서"), ("location", "청주")],
        ),
        ("사실 지난주에 여주로 이사했어요.", [("location", "여주")]),
        ("우리 집 고양이 이름은 까미예요.", [(ANY_TOPIC, "까미")]),
        ("땅콩 알레르기가 있어요.", [(ANY_TOPIC, "땅콩")]),
        ("오늘 날씨 정말 좋네요.", []),
        ("에베레스트산은 세계에서 제일 높은 산이에요.", []),
    ],
    "Japanese": [
        ("はじめまして、颯太です。静岡に住んでいます。", [("name", "颯太"), ("location", "静岡")]),
        ("実は先週、沼津に引っ越しました。", [("location", "沼津")]),
        ("柴犬のポチを飼っています。", [(ANY_TOPIC, "ポチ")]),
        ("娘が二人います。", [(ANY_TOPIC, "娘")]),
        ("今日はいい天気ですね。", []),
    ],
    "Chinese": [
        ("你好，我叫王思远，住在苏州。", [("name", "王思远"), ("location", "苏州")]),
        ("其实我上周搬到了无锡。", [("location", "无锡")]),
        ("我有一只狗叫旺财。", [(ANY_TOPIC, "旺财")]),
        ("我对花生过敏。", [(ANY_TOPIC, "花生")]),
        ("长城非常长。", []),
    ],
    "French": [
        (
            "Bonjour, je m'appelle Bérénice et j'habite à Valence.",
            [("name", "Bérénice"), ("location", "Valence")],
        ),
        ("En fait, j'ai déménagé à Grenoble la semaine dernière.", [("location", "Grenoble")]),
        ("J'ai un lapin qui s'appelle Caramel.", [(ANY_TOPIC, "Caramel")]),
        ("Je suis végétarienne depuis dix ans.", [(ANY_TOPIC, "végétarienne")]),
        ("Il fait beau aujourd'hui.", []),
    ],
    "Spanish": [
        (
            "Hola, me llamo Valentina y vivo en Málaga.",
            [("name", "Valentina"), ("location", "Málaga")],
        ),
        ("En realidad me mudé a Córdoba la semana pasada.", [("location", "Córdoba")]),
        ("Tengo un gato que se llama Michi.", [(ANY_TOPIC, "Michi")]),
        ("Soy alérgica a las nueces.", [(ANY_TOPIC, "nueces")]),
        ("El Amazonas es un río muy largo.", []),
    ],
    "German": [
        (
            "Hallo, ich heiße Annika und wohne in Bielefeld.",
            [("name", "Annika"), ("location", "Bielefeld")],
        ),
        ("Ich bin letzte Woche nach Paderborn umgezogen.", [("location", "Paderborn")]),
        ("Mein Hund heißt Bello.", [(ANY_TOPIC, "Bello")]),
        ("Ich spiele seit zehn Jahren Geige.", [(ANY_TOPIC, "Geige")]),
        ("Das Wetter ist heute schön.", []),
    ],
    "English": [
        ("Hi, I'm Rosalind and I live in Leeds.", [("name", "Rosalind"), ("location", "Leeds")]),
        ("Actually I moved to Harrogate last week.", [("location", "Harrogate")]),
        ("My parrot is called Pickles.", [(ANY_TOPIC, "Pickles")]),
        ("I'm allergic to shellfish.", [(ANY_TOPIC, "shellfish")]),
        ("The Nile is a very long river.", []),
    ],
}
"""Per language: a statement and the facts it holds (topic, a word the value must hold).

None of these names, places or pets is in a prompt of the chatbot, in its tests
or in another benchmark (``tests/unit_tests/test_memory.py`` checks)."""

EXTRACTION_CAP = 128
"""Tokens the extraction may answer with here: above any cap the graph uses, to see the need."""


@dataclass
class ExtractionTally:
    """What the extractor did with one language's statements."""

    expected: int = 0
    found: int = 0
    right_topic: int = 0
    unexpected: int = 0
    saved: int = 0
    quiet_cases: int = 0
    quiet_saved: int = 0
    tokens: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)


def _holds(text: str, needle: str) -> bool:
    return fold(needle) in fold(text)


def score(
    tally: ExtractionTally, facts: list[tuple[str, str]], expected: list[tuple[str, str]]
) -> None:
    """Add what parse kept for one statement (``facts``: topic, text) to ``tally``."""
    tally.saved += len(facts)
    if not expected:
        tally.quiet_cases += 1
        tally.quiet_saved += bool(facts)
    matched: set[int] = set()
    for topic, needle in expected:
        tally.expected += 1
        hits = [i for i, (_t, text) in enumerate(facts) if _holds(text, needle)]
        if hits:
            tally.found += 1
            matched.update(hits)
            if topic == ANY_TOPIC or any(facts[i][0] == topic for i in hits):
                tally.right_topic += 1
        else:
            tally.misses.append(f"{needle} not in {facts}")
    tally.unexpected += len(facts) - len(matched)


@asynccontextmanager
async def model_endpoint(url: str | None) -> AsyncIterator[str]:
    """Yield the OpenAI base URL of ``url``, or of the embedded model started for the block."""
    if url:
        yield url
        return
    async with embedded_model_server() as started:
        yield started


async def extraction_bench(url: str | None) -> dict[str, ExtractionTally]:
    """Ask the extraction prompt for every statement; return a tally per language."""
    tallies: dict[str, ExtractionTally] = {}
    async with model_endpoint(url) as base_url:
        async with httpx.AsyncClient(timeout=30) as http:
            served = (await http.get(f"{base_url}/models")).json()["data"][0]["id"]
        model = ChatOpenAI(
            model=served,
            base_url=base_url,
            api_key="none",  # type: ignore[arg-type]
            temperature=0,
            extra_body={"max_tokens": EXTRACTION_CAP},
        )
        for language, statements in STATEMENTS.items():
            tally = tallies.setdefault(language, ExtractionTally())
            for said, expected in statements:
                started = time.perf_counter()
                reply = await model.ainvoke(extraction.prompt(said))
                tally.seconds.append(time.perf_counter() - started)
                usage = reply.response_metadata.get("token_usage") or {}
                tally.tokens.append(int(usage.get("completion_tokens") or 0))
                answer = str(reply.content)
                facts = [(f.topic, f.text) for f in extraction.parse(answer, said)]
                score(tally, facts, expected)
                print(
                    json.dumps({"said": said, "answer": answer, "kept": facts}, ensure_ascii=False)
                )
    return tallies


def print_extraction(tallies: dict[str, ExtractionTally]) -> None:
    """Print the per-language table of :func:`extraction_bench`."""
    print(
        "| Language | Facts found | ... under the right topic | Saved, not expected | "
        "Small talk / other things saved | Answer tokens (max) | Seconds a call (median) |"
    )
    print("|---|---|---|---|---|---|---|")
    total = ExtractionTally()
    for language, tally in tallies.items():
        print(
            f"| {language} | {share(tally.found, tally.expected)} | "
            f"{share(tally.right_topic, tally.expected)} | {share(tally.unexpected, tally.saved)} | "
            f"{share(tally.quiet_saved, tally.quiet_cases)} | {max(tally.tokens)} | "
            f"{statistics.median(tally.seconds):.1f} |"
        )
        for name in (
            "expected",
            "found",
            "right_topic",
            "unexpected",
            "saved",
            "quiet_cases",
            "quiet_saved",
        ):
            setattr(total, name, getattr(total, name) + getattr(tally, name))
        total.tokens += tally.tokens
        total.seconds += tally.seconds
    print(
        f"| All | {share(total.found, total.expected)} | {share(total.right_topic, total.expected)} | "
        f"{share(total.unexpected, total.saved)} | {share(total.quiet_saved, total.quiet_cases)} | "
        f"{max(total.tokens)} | {statistics.median(total.seconds):.1f} |"
    )
    for language, tally in tallies.items():
        for miss in tally.misses:
            print(f"- {language}: {miss}")


@dataclass
class Outcome:
    """What happened for one person."""

    name: str
    recalled: bool = False
    corrected: bool = False
    corrected_reply: bool = False
    saved: dict[str, str] = field(default_factory=dict)
    made_up: list[str] = field(default_factory=list)
    mislabelled: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)


async def say(client: LangGraphClient, text: str, thread: str | None = None) -> str:
    """Send ``text`` in ``thread`` (a new one by default) and return the reply."""
    thread = thread or str((await client.threads.create())["thread_id"])
    values = await client.runs.wait(thread, GRAPH_ID, input=user(text))
    assert isinstance(values, dict) and "__error__" not in values, values
    return str(values["messages"][-1]["content"])


async def memory(client: LangGraphClient, user_id: str) -> dict[str, list[str]]:
    """Return the user's saved facts, topic -> the values of that topic."""
    found = await client.store.search_items([user_id, "memories"], limit=1000)
    saved: dict[str, list[str]] = {}
    for item in found["items"]:
        value = item["value"]
        saved.setdefault(str(value.get("topic") or value.get("kind")), []).append(
            str(value["text"])
        )
    return saved


LEARN_DEADLINE_S = 90.0
"""How long a statement's facts may take to be saved: learning runs after the reply."""


async def settled(
    client: LangGraphClient, user_id: str, done: Callable[[dict[str, list[str]]], bool]
) -> dict[str, list[str]]:
    """Return the user's memory once ``done`` says so, or as it is at the deadline."""
    deadline = time.monotonic() + LEARN_DEADLINE_S
    saved = await memory(client, user_id)
    while not done(saved) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        saved = await memory(client, user_id)
    return saved


def client_for(url: str, user_id: str) -> LangGraphClient:
    """Return an SDK client that acts as ``user_id``."""
    token = create_token(user_id, SECRET)
    return get_client(url=url, api_key=None, headers={"Authorization": f"Bearer {token}"})


async def one_person(url: str, index: int, ask_after: bool) -> Outcome:
    """Run the four turns of one person; judge what was said and saved."""
    name, home, moved, hobby = PEOPLE[index]
    user_id = f"person-{index}"
    client = client_for(url, user_id)
    outcome = Outcome(name=name)
    said = [
        f"Hi! I'm {name}, I live in {home} and I love {hobby}.",
        "What's my name and where do I live?",
        f"Actually I moved to {moved}.",
        "Where do I live now?",
    ]
    replies = [await say(client, said[0])]
    first_saved = await settled(client, user_id, lambda saved: len(saved) >= 2)
    replies.append(await say(client, said[1]))
    outcome.recalled = name.lower() in replies[1].lower() and home.lower() in replies[1].lower()
    replies.append(await say(client, said[2]))
    after = await settled(
        client, user_id, lambda saved: moved.lower() in map(str.lower, saved.get("location", []))
    )
    outcome.corrected = [home.lower() for home in after.get("location", [])] == [moved.lower()]
    if ask_after:
        replies.append(await say(client, said[3]))
        outcome.corrected_reply = moved.lower() in replies[3].lower()
    outcome.replies = replies
    truth = {"name": name, "likes": hobby, "location": moved}
    everything_said = " ".join(said)
    for saved in (first_saved, after):
        for topic, texts in saved.items():
            for text in texts:
                label = f"{topic}: {text}"
                if label in outcome.saved.values():
                    continue
                outcome.saved[f"{topic}@{len(outcome.saved)}"] = label
                if grounded(text, everything_said) is None:
                    outcome.made_up.append(label)
                elif topic in truth and not (
                    grounded(truth[topic], text) or (topic == "location" and grounded(home, text))
                ):
                    outcome.mislabelled.append(label)
                elif topic not in truth:
                    outcome.mislabelled.append(label)
    await client.http.client.aclose()
    return outcome


async def first_token(url: str, remember: bool, rounds: int) -> dict[str, float]:
    """Median ms to the first reply token, and of the run after the reply's last token."""
    client = client_for(url, f"first-token-{remember}")
    firsts: list[float] = []
    tails: list[float] = []
    for number in range(rounds):
        name, home, _moved, hobby = PEOPLE[number % len(PEOPLE)]
        thread = str((await client.threads.create())["thread_id"])
        for text in (f"I'm {name} and I love {hobby}.", "What do you know about me?"):
            start = time.perf_counter()
            first = last = None
            async for part in client.runs.stream(
                thread,
                GRAPH_ID,
                input=user(text),
                context={"remember": remember},
                stream_mode="messages-tuple",
            ):
                if part.event == "messages":
                    chunk, meta = part.data
                    if meta.get("langgraph_node") == "model" and chunk.get("content"):
                        now = time.perf_counter()
                        first = first or now
                        last = now
            end = time.perf_counter()
            if first is not None and last is not None:
                firsts.append((first - start) * 1000)
                tails.append((end - last) * 1000)
    await client.http.client.aclose()
    return {
        "first_token_ms": statistics.median(firsts) if firsts else float("nan"),
        "after_reply_ms": statistics.median(tails) if tails else float("nan"),
    }


def share(count: int, total: int) -> str:
    """Return ``count/total (percent)``."""
    return f"{count}/{total} ({100 * count / total:.0f}%)" if total else "0/0"


async def main() -> None:
    """Run the people, then the first-token comparison, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=len(PEOPLE))
    parser.add_argument("--first-token-rounds", type=int, default=5)
    parser.add_argument("--ask-after-correction", action="store_true")
    parser.add_argument("--json", type=Path, help="Also write every outcome here.")
    parser.add_argument(
        "--extraction",
        action="store_true",
        help="Only measure the extractor on the multilingual statements (no server, ~3 min).",
    )
    parser.add_argument(
        "--model-url",
        help="An OpenAI-compatible server to use instead of the embedded model (its base URL).",
    )
    args = parser.parse_args()
    if args.extraction:
        started = time.perf_counter()
        tallies = await extraction_bench(args.model_url)
        print(f"\nmemory_quality --extraction: {time.perf_counter() - started:.0f} s")
        print_extraction(tallies)
        return
    workdir = Path(tempfile.mkdtemp(prefix="chatbot-memory-"))
    write_config(workdir)
    extra = {"OPENAI_BASE_URL": args.model_url, "OPENAI_API_KEY": "none"} if args.model_url else {}
    env = server_environment(CHATBOT_REMEMBER="true", CHATBOT_AUTH_SECRET=SECRET, **extra)
    server = DevServer(workdir=workdir, port=free_port(), env=env)
    started = time.perf_counter()
    server.start()
    outcomes: list[Outcome] = []
    try:
        for index in range(min(args.people, len(PEOPLE))):
            outcome = await one_person(server.url, index, args.ask_after_correction)
            outcomes.append(outcome)
            print(json.dumps(vars(outcome), ensure_ascii=False), flush=True)
        timing = {}
        for remember in (False, True):
            timing[remember] = await first_token(server.url, remember, args.first_token_rounds)
    finally:
        server.stop()
    people = len(outcomes)
    saved = sum(len(o.saved) for o in outcomes)
    print(f"\nmemory_quality: {people} people, {time.perf_counter() - started:.0f} s")
    print("| Figure | Result | Goal |\n|---|---|---|")
    print(
        f"| Remembered in a new thread (name and home in the reply) | "
        f"{share(sum(o.recalled for o in outcomes), people)} | >= 80% |"
    )
    print(
        f"| Corrections applied (memory says the new home) | "
        f"{share(sum(o.corrected for o in outcomes), people)} | >= 80% |"
    )
    if args.ask_after_correction:
        print(
            f"| ... and the next new thread's reply names it | "
            f"{share(sum(o.corrected_reply for o in outcomes), people)} | |"
        )
    print(
        f"| Saved facts the user never said (made up) | "
        f"{share(sum(len(o.made_up) for o in outcomes), saved)} | <= 5% |"
    )
    print(
        f"| Saved facts said, but under the wrong kind | "
        f"{share(sum(len(o.mislabelled) for o in outcomes), saved)} | |"
    )
    for remember, figures in timing.items():
        print(
            f"| First token, memory {'on' if remember else 'off'} (median ms) | "
            f"{figures['first_token_ms']:.0f} | |"
        )
        print(
            f"| Run after the reply's last token, memory {'on' if remember else 'off'} "
            f"(median ms) | {figures['after_reply_ms']:.0f} | |"
        )
    if args.json:
        args.json.write_text(json.dumps([vars(o) for o in outcomes], indent=2, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
