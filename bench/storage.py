"""Bytes stored per conversation as it grows, and server time per turn, on SQLite and PostgreSQL.

Drives one thread per backend to ``--turns`` turns through a real
``langgraph dev`` server (one backend after the other, each on its own
server, so neither takes the other's CPU) with an instant OpenAI-compatible
model. At 100, 500 and 1,000 turns it reads the
bytes the thread occupies in the database and the size of the transcript
itself as JSON (the thread's ``values.messages`` as the API returns them).
Every checkpoint of the last ``CHATBOT_HISTORY_TURNS`` turns is kept, yet
linear growth gives a 1,000/100 ratio near 10 (goal: at most 12), and storing
each message once keeps the bytes within 3x of the transcript.

Turns are queued back to back (multitask ``enqueue``), as a busy client would,
so the dev server chains them without its 0.5 s idle poll; server
milliseconds per turn are the wall time of queued turns divided by their
number: turns 1 to 10, and the 40 turns ending at each mark (or those since
the previous mark, when it is closer; goal: turn
1,000 at most 1.5x turn 10). The prompt grows until it reaches the token
budget (at turn ~50 with the default 2,000 tokens), is folded back, and grows
again, so turn 100 against turn 1,000 shows what the thread's length alone
costs.

    .venv/bin/python -m bench.storage            # ~8 minutes
    .venv/bin/python -m bench.storage --turns 200 --marks 20,100,200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from langgraph_sdk import get_client

from agent.models.local.launcher import free_port
from agent.testing.dev_server import DevServer, server_environment, write_config
from agent.testing.postgres import fresh_database
from agent.testing.scripted_model import serve_in_thread
from agent.testing.turns import GRAPH_ID, user

TIMED_TURNS = 10
"""The first figure: the server's time per turn over turns 1 to 10."""

TIMED_STRETCH = 40
"""Turns timed together at each later mark. With the default budget the prompt
fills up and is folded about every 40 turns of this bench (from about 80 to
about 150 messages, then a fold of ten summarizer calls), so a stretch of one
cycle times the same mix of prompts wherever it falls."""


def sqlite_bytes(path: Path, thread_id: str) -> int:
    """Bytes of the thread's checkpoints and pending writes in the SQLite file."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        checkpoints = db.execute(
            "SELECT COALESCE(SUM(LENGTH(checkpoint) + LENGTH(metadata)), 0) "
            "FROM checkpoints WHERE thread_id = ?",
            (thread_id,),
        ).fetchone()[0]
        writes = db.execute(
            "SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes WHERE thread_id = ?",
            (thread_id,),
        ).fetchone()[0]
    return int(checkpoints) + int(writes)


def autovacuum(uri: str) -> str:
    """Return the server's autovacuum setting (pruned checkpoints stay dead rows until a vacuum)."""
    with psycopg.connect(uri) as db:
        row = db.execute("SHOW autovacuum").fetchone()
    return str(row[0]) if row else "unknown"


def postgres_bytes(uri: str, thread_id: str) -> int:
    """Bytes of the thread's checkpoints, channel blobs and writes in PostgreSQL."""
    with psycopg.connect(uri) as db:
        row = db.execute(
            """SELECT
                 (SELECT COALESCE(SUM(pg_column_size(checkpoint) + pg_column_size(metadata)), 0)
                    FROM chatbot.checkpoints WHERE thread_id = %(t)s)
               + (SELECT COALESCE(SUM(octet_length(blob)), 0)
                    FROM chatbot.checkpoint_blobs WHERE thread_id = %(t)s)
               + (SELECT COALESCE(SUM(octet_length(blob)), 0)
                    FROM chatbot.checkpoint_writes WHERE thread_id = %(t)s)""",
            {"t": thread_id},
        ).fetchone()
    return int(row[0]) if row else 0


async def drive(
    name: str, server: DevServer, turns: int, marks: list[int], measure: Any
) -> dict[str, dict[int, float]]:
    """Run ``turns`` turns on one thread; return bytes, transcript bytes and ms per turn."""
    client = get_client(url=server.url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    results: dict[str, dict[int, float]] = {"bytes": {}, "transcript": {}, "ms_per_turn": {}}
    done = 0
    for mark in sorted({*marks, TIMED_TURNS, turns}):
        stretch = TIMED_TURNS if mark == TIMED_TURNS else TIMED_STRETCH
        start = max(done, mark - stretch)  # the timed turns are start+1..mark
        if start > done:
            await _queue(client, thread_id, done + 1, start)
        started = time.perf_counter()
        await _queue(client, thread_id, start + 1, mark)
        elapsed = time.perf_counter() - started
        results["ms_per_turn"][mark] = elapsed * 1000 / (mark - start)
        done = mark
        if mark in marks:
            values = (await client.threads.get_state(thread_id))["values"]
            assert len(values["messages"]) == 2 * mark, "turns were lost"
            results["transcript"][mark] = len(json.dumps(values["messages"]).encode())
            results["bytes"][mark] = await asyncio.to_thread(measure, thread_id)
            print(
                f"{name}: {mark} turns, {results['bytes'][mark]:,.0f} bytes stored, "
                f"transcript {results['transcript'][mark]:,.0f} bytes",
                flush=True,
            )
    return results


async def _queue(client: Any, thread_id: str, first: int, last: int) -> None:
    """Queue turns ``first``..``last`` back to back and wait for the last one."""
    run: dict[str, Any] = {}
    for turn in range(first, last + 1):
        text = f"Turn {turn}: here is a short message to remember."
        run = await client.runs.create(
            thread_id, GRAPH_ID, input=user(text), multitask_strategy="enqueue"
        )
    if run:
        await client.runs.join(thread_id, run["run_id"])


async def main() -> None:
    """Run the benchmark and print the table and the summary lines."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--marks", default="100,500,1000")
    parser.add_argument(
        "--history-turns", default="", help="CHATBOT_HISTORY_TURNS for the servers (default 50)"
    )
    args = parser.parse_args()
    marks = sorted(int(mark) for mark in args.marks.split(","))

    model_port = free_port()
    model = serve_in_thread(model_port)
    extra = {
        "OPENAI_BASE_URL": f"http://127.0.0.1:{model_port}/v1",
        "OPENAI_API_KEY": "bench",
        "CHATBOT_MODEL": "instant",
    }
    if args.history_turns:
        extra["CHATBOT_HISTORY_TURNS"] = args.history_turns
    root = Path(tempfile.mkdtemp(prefix="chatbot-bench-"))
    results: dict[str, dict[str, dict[int, float]]] = {}
    with fresh_database("chatbot_bench") as postgres_uri:
        measures: dict[str, Any] = {
            "sqlite": lambda thread: sqlite_bytes(
                root / "sqlite" / ".chatbot" / "checkpoints.sqlite", thread
            ),
            "postgres": lambda thread: postgres_bytes(postgres_uri, thread),
        }
        try:
            for name, env in (("sqlite", {}), ("postgres", {"POSTGRES_URI": postgres_uri})):
                workdir = root / name
                workdir.mkdir()
                write_config(workdir)
                server = DevServer(
                    workdir=workdir, port=free_port(), env=server_environment(**extra, **env)
                )
                server.start()
                try:
                    results[name] = await drive(name, server, args.turns, marks, measures[name])
                finally:
                    server.stop()
        finally:
            model.should_exit = True
        print(f"\nPostgreSQL autovacuum: {autovacuum(postgres_uri)}")
    report(results, marks, args.turns)


def report(results: dict[str, dict[str, dict[int, float]]], marks: list[int], turns: int) -> None:
    """Print the table (Markdown) and one summary line per backend."""
    print()
    print(
        "| backend | turns | bytes stored | transcript (JSON) | stored / transcript "
        "| server ms per turn |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, result in results.items():
        per_turn = result["ms_per_turn"]
        print(f"| {name} | {TIMED_TURNS:,} | | | | {per_turn[TIMED_TURNS]:.0f} |")
        for mark in marks:
            stored, transcript = result["bytes"][mark], result["transcript"][mark]
            print(
                f"| {name} | {mark:,} | {stored:,.0f} | {transcript:,.0f} | "
                f"{stored / transcript:.2f} | {per_turn[mark]:.0f} |"
            )
    print()
    first, last = marks[0], marks[-1]
    for name, result in results.items():
        per_turn = result["ms_per_turn"]
        print(
            f"{name}: bytes_ratio_{last}_{first}={result['bytes'][last] / result['bytes'][first]:.2f} "
            f"stored_vs_transcript_{last}={result['bytes'][last] / result['transcript'][last]:.2f} "
            f"ms_per_turn_{TIMED_TURNS}={per_turn[TIMED_TURNS]:.0f} "
            f"ms_per_turn_{first}={per_turn[first]:.0f} "
            f"ms_per_turn_{turns}={per_turn[turns]:.0f} "
            f"ms_ratio_{turns}_{TIMED_TURNS}={per_turn[turns] / per_turn[TIMED_TURNS]:.2f} "
            f"ms_ratio_{turns}_{first}={per_turn[turns] / per_turn[first]:.2f}"
        )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
