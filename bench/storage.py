"""Bytes stored per conversation as it grows, on SQLite and on PostgreSQL.

Drives one thread per backend to ``--turns`` turns through a real
``langgraph dev`` server (both backends at once, each on its own server) with
an instant OpenAI-compatible model, and reads the bytes the thread occupies in
each database at 100, 500 and 1,000 turns. Linear growth gives a 1,000/100
ratio of about 10; keeping every checkpoint gives about 100.

    .venv/bin/python -m bench.storage            # ~18 minutes (the dev server's ~1 s floor per run)
    .venv/bin/python -m bench.storage --turns 200 --marks 20,100,200
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from langgraph_sdk import get_client

from agent.models.local.launcher import free_port
from agent.testing.dev_server import DevServer, server_environment, write_config
from agent.testing.scripted_model import serve_in_thread

ADMIN_URI = "postgresql://postgres@127.0.0.1:5432/postgres"


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
    name: str, server: DevServer, turns: int, marks: list[int], measure: object
) -> dict[int, int]:
    """Run ``turns`` turns on one thread; return bytes stored at each mark."""
    client = get_client(url=server.url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    sizes: dict[int, int] = {}
    started = time.perf_counter()
    for turn in range(1, turns + 1):
        text = f"Turn {turn}: here is a short message to remember."
        await client.runs.wait(
            thread_id, "chatbot", input={"messages": [{"role": "user", "content": text}]}
        )
        if turn in marks:
            sizes[turn] = await asyncio.to_thread(measure, thread_id)  # type: ignore[arg-type]
            rate = turn / (time.perf_counter() - started)
            print(f"{name}: {turn} turns, {sizes[turn]:,} bytes ({rate:.2f} turns/s)", flush=True)
    state = await client.threads.get_state(thread_id)
    assert len(state["values"]["messages"]) == 2 * turns, "turns were lost"
    return sizes


async def main() -> None:
    """Run the benchmark and print the table and the ratio line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--marks", default="100,500,1000")
    parser.add_argument(
        "--keep-history", action="store_true", help="measure with pruning off (baseline)"
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
    if args.keep_history:
        extra["CHATBOT_KEEP_HISTORY"] = "true"
    database = f"chatbot_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(ADMIN_URI, autocommit=True)
    admin.execute(f'CREATE DATABASE "{database}"')
    postgres_uri = f"postgresql://postgres@127.0.0.1:5432/{database}"
    root = Path(tempfile.mkdtemp(prefix="chatbot-bench-"))
    servers: dict[str, DevServer] = {}
    try:
        for name, env in (("sqlite", {}), ("postgres", {"POSTGRES_URI": postgres_uri})):
            workdir = root / name
            workdir.mkdir()
            write_config(workdir)
            servers[name] = DevServer(
                workdir=workdir, port=free_port(), env=server_environment(**extra, **env)
            )
            servers[name].start()
        sqlite_file = servers["sqlite"].workdir / ".chatbot" / "checkpoints.sqlite"
        results = await asyncio.gather(
            drive(
                "sqlite",
                servers["sqlite"],
                args.turns,
                marks,
                lambda thread: sqlite_bytes(sqlite_file, thread),
            ),
            drive(
                "postgres",
                servers["postgres"],
                args.turns,
                marks,
                lambda thread: postgres_bytes(postgres_uri, thread),
            ),
        )
    finally:
        for server in servers.values():
            server.stop()
        model.should_exit = True
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()

    sizes = dict(zip(("sqlite", "postgres"), results, strict=True))
    print()
    print(f"{'turns':>6} | {'sqlite bytes':>14} | {'postgres bytes':>14}")
    for mark in marks:
        print(f"{mark:>6} | {sizes['sqlite'][mark]:>14,} | {sizes['postgres'][mark]:>14,}")
    first, last = marks[0], marks[-1]
    ratios = {name: sizes[name][last] / sizes[name][first] for name in sizes}
    print(
        f"bytes_ratio_{last}_{first}: sqlite={ratios['sqlite']:.2f} "
        f"postgres={ratios['postgres']:.2f}"
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
