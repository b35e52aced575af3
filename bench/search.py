"""Search at 1,000 conversations x 50 turns, on SQLite and PostgreSQL: latency and index size.

One user owns ``--conversations`` conversations of ``--turns`` turns (a user
message and a reply each, in Korean, Japanese, French, Spanish or English
with the scripts' own punctuation and particles), and another user as many
again, so the owner filter has rows to pass over. The messages go into the
search index as the chores write them (``SearchIndex.update``, one
conversation at a time), in the same database the checkpointer uses, through
the savers the server opens (``agent.storage.checkpointer``); each thread has
one checkpoint, so the deletion check of every search has rows to look up.

Then each query of :data:`QUERIES` (rare and common words, two-character
Korean and Japanese words, accented Latin, several words, words found
nowhere) is searched ``--repeats`` times, as the first user, 20 messages at
most (the page's and the route's default): p50 and p95 over all searches, and
per query. On PostgreSQL the table is analyzed first, as autovacuum does
soon after such growth on a running server. Storage: bytes of the index's tables and indexes against the bytes
of text they hold, at a quarter, half and all of the conversations (linear
growth keeps the ratio flat). Last, the chores' cost per turn: indexing one
more turn of a 50-turn conversation (p50, p95).

The figures are the storage layer's (what ``GET /chatbot/search`` awaits);
the HTTP route adds its parsing and JSON.

    .venv/bin/python -m bench.search                      # ~5 minutes on 2 cores
    .venv/bin/python -m bench.search --conversations 100  # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import empty_checkpoint

from agent.storage.checkpointer import checkpointer
from agent.storage.search import (
    POSTGRES_ANALYZE,
    Entry,
    PostgresSearchIndex,
    SearchIndex,
    index_for,
    parse_query,
)
from agent.testing.postgres import fresh_database
from bench.perf.stats import median, percentile

USER, OTHER = "bench-user", "bench-other"

WORDS = {
    "ko": (
        "서울에서 부산으로 고양이가 강아지를 커피를 주말에 회사에서 친구와 여행을 음식이 "
        "날씨가 비빔밥을 김치를 학교에 도서관에서 영화를 음악을 바다가 산에 기차를"
    ).split(),
    "ja": (
        "東京に 大阪で 猫が 犬を 週末に 会社で 友達と 旅行を 料理が 天気は 寿司を "
        "アレルギーが コーヒーを 図書館で 映画を 音楽を 海が 山に 電車で 京都へ"
    ).split(),
    "fr": (
        "je habite à Genève avec mon chat le week-end nous allons au café crème brûlée "
        "voyage été hiver bibliothèque musique cinéma forêt élève réponse déjà"
    ).split(),
    "es": (
        "vivo en Málaga con mi perro el fin de semana vamos a la playa canción "
        "mañana corazón niño jardín después también comida fútbol"
    ).split(),
    "en": (
        "the quick pelican flies over the harbour every morning while my sister "
        "writes code about weather trains music books coffee and gardens"
    ).split(),
}
"""Words each language's messages are made of; the chosen ones carry particles (ko, ja)."""

QUERIES = [
    "부산",  # Korean, two syllables: the short-term fallback
    "고양이",  # Korean, three syllables: the trigram index
    "東京",  # Japanese, two characters
    "アレルギー",  # katakana
    "crème brûlée",  # accented Latin, two words
    "Málaga",
    "the",  # in most English messages
    "pelican harbour",
    "서울 커피",  # two short Korean words
    "zyzzyva",  # nowhere
    "제주",  # a two-character word found nowhere: every row of the user is looked at
    "xq",  # the same with letters that have case (folded on every row)
]
"""What is searched for."""

SEARCH_LIMIT = 20


def message(rng: random.Random, language: str, words: int) -> str:
    """Return a message of ``words`` words in ``language``, with the script's punctuation."""
    vocabulary = WORDS[language]
    text = " ".join(rng.choice(vocabulary) for _ in range(words))
    return text + ("。" if language == "ja" else ".")


def conversation(rng: random.Random, turns: int, prefix: str) -> list[Entry]:
    """Return one conversation: ``turns`` user messages and replies, mostly in one language."""
    language = rng.choice(list(WORDS))
    entries: list[Entry] = []
    for turn in range(turns):
        spoken = language if rng.random() < 0.9 else rng.choice(list(WORDS))
        entries.append(Entry(f"{prefix}-u{turn}", "user", message(rng, spoken, rng.randint(5, 20))))
        entries.append(
            Entry(f"{prefix}-a{turn}", "assistant", message(rng, spoken, rng.randint(15, 60)))
        )
    return entries


async def saved(saver: Any, thread_id: str) -> None:
    """Give the thread a checkpoint, as a conversation has (every search checks for one)."""
    config: RunnableConfig = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
    await saver.aput(config, empty_checkpoint(), {"source": "input", "step": -1}, {})


async def fill(
    saver: Any, index: SearchIndex, conversations: int, turns: int, marks: Sequence[int]
) -> list[dict[str, int]]:
    """Index the conversations of both users; return the sizes at each mark (conversations)."""
    rng = random.Random(7)
    sizes: list[dict[str, int]] = []
    started = time.perf_counter()
    for n in range(1, conversations + 1):
        for user in (USER, OTHER):
            thread_id = f"{user}-{n}"
            await saved(saver, thread_id)
            await index.update(user, thread_id, conversation(rng, turns, thread_id))
        if n in marks:
            size = await index.size()
            sizes.append({"conversations": n, **size})
            print(
                f"  {n:,} conversations each: index {size['index'] / 1e6:,.1f} MB, "
                f"text {size['text'] / 1e6:,.1f} MB ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    return sizes


async def timed_searches(index: SearchIndex, repeats: int) -> dict[str, list[float]]:
    """Milliseconds of each search, by query."""
    timings: dict[str, list[float]] = {query: [] for query in QUERIES}
    for _ in range(repeats):
        for query in QUERIES:
            parsed = parse_query(query, SEARCH_LIMIT)
            began = time.perf_counter()
            await index.search(parsed, USER)
            timings[query].append((time.perf_counter() - began) * 1000)
    return timings


async def timed_turns(saver: Any, index: SearchIndex, turns: int) -> list[float]:
    """Milliseconds to index each turn of a new conversation, as the chores do after a reply."""
    rng = random.Random(11)
    whole = conversation(rng, turns, "timed")
    await saved(saver, "timed")
    timings: list[float] = []
    for turn in range(1, turns + 1):
        began = time.perf_counter()
        await index.update(USER, "timed", whole[: 2 * turn])
        timings.append((time.perf_counter() - began) * 1000)
    return timings


async def measure(name: str, conversations: int, turns: int, repeats: int) -> dict[str, Any]:
    """Fill one backend and time it (the environment says which database)."""
    marks = sorted({conversations // 4, conversations // 2, conversations} - {0})
    async with checkpointer() as saver:
        index = index_for(saver)
        assert index is not None, "the checkpointer is one of the project's savers"
        await index.setup()
        print(f"{name}: indexing {conversations:,} x 2 users x {turns} turns", flush=True)
        sizes = await fill(saver, index, conversations, turns, marks)
        if isinstance(index, PostgresSearchIndex):
            # What autovacuum does within a minute of such growth on a running server.
            async with index.pool.connection() as conn:
                await conn.execute(POSTGRES_ANALYZE)
        matches = {
            query: len(await index.search(parse_query(query, SEARCH_LIMIT), USER))
            for query in QUERIES
        }
        await timed_searches(index, 1)  # warm the caches, as a running server has them
        timings = await timed_searches(index, repeats)
        per_turn = await timed_turns(saver, index, turns)
    return {"sizes": sizes, "timings": timings, "matches": matches, "per_turn": per_turn}


def report(results: dict[str, dict[str, Any]], conversations: int, turns: int) -> None:
    """Print the tables (Markdown) and one summary line per backend."""
    print(f"\n### {conversations:,} conversations x {turns} turns (and as many of another user)\n")
    print("| backend | searches | p50 ms | p95 ms | max ms | index ms per turn p50 / p95 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, result in results.items():
        every = [ms for timings in result["timings"].values() for ms in timings]
        per_turn = result["per_turn"]
        print(
            f"| {name} | {len(every):,} | {median(every):.1f} | {percentile(every, 95):.1f} | "
            f"{max(every):.1f} | {median(per_turn):.1f} / {percentile(per_turn, 95):.1f} |"
        )
    print("\n| query | " + " | ".join(f"{name} p50 / p95 ms (hits)" for name in results) + " |")
    print("|---|" + "---:|" * len(results))
    for query in QUERIES:
        cells = [
            f"{median(r['timings'][query]):.1f} / {percentile(r['timings'][query], 95):.1f} "
            f"({r['matches'][query]})"
            for r in results.values()
        ]
        print(f"| `{query}` | " + " | ".join(cells) + " |")
    print("\n| backend | conversations (per user) | index bytes | text bytes | index / text |")
    print("|---|---:|---:|---:|---:|")
    for name, result in results.items():
        for size in result["sizes"]:
            print(
                f"| {name} | {size['conversations']:,} | {size['index']:,} | {size['text']:,} | "
                f"{size['index'] / size['text']:.2f} |"
            )
    print()
    for name, result in results.items():
        every = [ms for timings in result["timings"].values() for ms in timings]
        first, last = result["sizes"][0], result["sizes"][-1]
        print(
            f"{name}: p50_ms={median(every):.1f} p95_ms={percentile(every, 95):.1f} "
            f"index_vs_text={last['index'] / last['text']:.2f} "
            f"growth_{last['conversations']}_{first['conversations']}="
            f"{last['index'] / first['index']:.2f} "
            f"index_ms_per_turn_p95={percentile(result['per_turn'], 95):.1f}"
        )


async def main() -> None:
    """Run the benchmark on both backends and print the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    root = Path(tempfile.mkdtemp(prefix="chatbot-bench-search-"))
    for name in args.backends.split(","):
        os.environ.pop("POSTGRES_URI", None)
        os.environ.pop("DATABASE_URI", None)
        os.environ["CHATBOT_DATA_DIR"] = str(root / name)
        if name == "postgres":
            with fresh_database("chatbot_bench") as uri:
                os.environ["POSTGRES_URI"] = uri
                results[name] = await measure(name, args.conversations, args.turns, args.repeats)
                os.environ.pop("POSTGRES_URI")
        else:
            results[name] = await measure(name, args.conversations, args.turns, args.repeats)
    report(results, args.conversations, args.turns)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
