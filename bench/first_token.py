"""Does any reply wait for the bot's housekeeping? First-token times as a user meets them.

A real ``langgraph dev`` with the embedded model (or ``CHATBOT_MODEL_FILE``'s),
driven through the SDK's token stream (``stream_mode="messages-tuple"``), the
way the chat page and the CLI call it. Measured, with a 500-token budget so a
thread folds every few turns:

* **ordinary turns**: the median first token of turns that neither fold nor
  follow a statement (turn 1, which reads the system prompt cold, left out),
  each sent ``--pause`` seconds after the reply before it (default 8 s: a user
  reading and typing);
* **fold turns**: the first token of every turn whose prompt starts with a
  new summary (``summarized_through`` moved), against that median;
* **the slowest ordinary turn**, against the median: a reply that waited for a
  fold still under way (one the replies already need is let finish) shows here,
  on the turns just before a new summary;
* **after a statement**: a user says something about themselves and, the
  instant that reply's stream ends, sends the next message: its first token
  against the median (memory extraction of the statement is due right then);
* **known in a new thread**: seconds from the end of a statement's reply until
  the fact is in the user's memory (``/store`` search), i.e. until a new
  conversation would know it.

Prints every turn, then a table and ``first_token: median_ms=... fold_ratio_max=...
slowest_ratio=... statement_ratio_max=... known_after_s_max=...``. Runs against whatever code the
``agent`` package is (put another checkout's ``src`` first on ``PYTHONPATH`` to
measure it: the server is started from that checkout).

    .venv/bin/python -m bench.first_token            # about 5 minutes on 2 cores
    .venv/bin/python -m bench.first_token --folds 1  # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

import agent
from agent.models.local.launcher import free_port
from agent.testing.dev_server import DevServer, server_environment, write_config
from agent.testing.turns import GRAPH_ID

BUDGET = 500
"""Prompt budget of the measured threads: small, so folds come every few turns."""

PAUSE_S = 8.0
"""A user reads a reply and types the next message: the time housekeeping has between turns.

The message after a statement is always sent the instant the reply ends (no pause), and
``--pause 0`` sends every message that way, which leaves the housekeeping no time at all:
background calls then give way twice and are let finish, so some replies wait for them."""

USER = "local"
"""Whose memory a request without a token uses."""

TALK = [
    "Tell me one fact about the ocean.",
    "What is a good name for a goldfish?",
    "Suggest a quick breakfast.",
    "What is 12 times 12?",
    "Name a famous painter.",
    "Give me a word that means happy.",
    "How many legs does a spider have?",
    "What colour is a ripe banana?",
]
"""Small talk: nothing about the user, so no fact is learnt from it."""

STATEMENTS = [
    ("Salut ! Je m'appelle Ondine et j'habite à Figeac.", "Figeac"),
    ("제 이름은 도겸이고 여수에 살아요.", "여수"),
    ("Hallo, ich bin Fenja und wohne in Wismar.", "Wismar"),
]
"""Statements about the user, each with a word their fact must hold (names in no prompt)."""


async def first_token_ms(client: LangGraphClient, thread: str, text: str) -> tuple[float, float]:
    """Send ``text``; return (ms to the first reply token, seconds since epoch at the stream's end)."""
    started = time.perf_counter()
    first: float | None = None
    async for part in client.runs.stream(
        thread,
        GRAPH_ID,
        input={"messages": [{"role": "user", "content": text}]},
        stream_mode="messages-tuple",
    ):
        if part.event == "error":
            raise RuntimeError(f"the run failed: {part.data}")
        if first is None and part.event == "messages":
            chunk, metadata = part.data
            if metadata.get("langgraph_node") == "model" and chunk.get("content"):
                first = time.perf_counter() - started
    if first is None:
        raise RuntimeError("no reply token streamed")
    return first * 1000, time.time()


async def summarized_through(client: LangGraphClient, thread: str) -> str | None:
    """Return the last message the thread's summary in use covers."""
    values = (await client.threads.get_state(thread))["values"]
    return values.get("summarized_through") if isinstance(values, dict) else None


async def seconds_until_known(client: LangGraphClient, word: str, since: float) -> float | None:
    """Poll the user's memory until a fact holds ``word``; seconds after ``since``, or None."""
    deadline = time.time() + 120
    while time.time() < deadline:
        items = (await client.store.search_items((USER, "memories"), limit=100))["items"]
        if any(word in str(item["value"].get("text", "")) for item in items):
            return time.time() - since
        await asyncio.sleep(0.1)
    return None


async def measure(url: str, folds: int, pause: float) -> dict[str, Any]:
    """Drive the threads and return every figure; ``pause`` seconds pass between turns."""
    client = get_client(url=url, api_key=None)
    ordinary: list[tuple[int, float]] = []
    fold_turns: list[tuple[int, float]] = []
    thread = (await client.threads.create())["thread_id"]
    turn, marker = 0, None
    while len(fold_turns) < folds and turn < 40 * folds:
        turn += 1
        await asyncio.sleep(pause if turn > 1 else 0)  # the user reads the reply, types
        ms, _ = await first_token_ms(client, thread, TALK[turn % len(TALK)])
        now = await summarized_through(client, thread)
        folded = now != marker
        marker = now
        if folded:
            fold_turns.append((turn, ms))
        elif turn > 1:
            ordinary.append((turn, ms))
        print(f"turn {turn:>3}: first token {ms:7.0f} ms{'  (new summary)' if folded else ''}")
    median = statistics.median(ms for _, ms in ordinary)
    after_statement: list[float] = []
    known_after: list[float | None] = []
    for statement, word in STATEMENTS:
        other = (await client.threads.create())["thread_id"]
        await asyncio.sleep(pause)
        await first_token_ms(client, other, TALK[0])  # an ordinary start for this thread
        await asyncio.sleep(pause)
        _, ended = await first_token_ms(client, other, statement)
        ms, _ = await first_token_ms(client, other, TALK[3])
        after_statement.append(ms)
        known = await seconds_until_known(client, word, ended)
        known_after.append(known)
        print(f"after {statement!r}: first token {ms:.0f} ms; in memory after {known} s")
    await client.http.client.aclose()
    return {
        "median_ms": median,
        "slowest_ordinary": max(ordinary, key=lambda turn_ms: turn_ms[1]),
        "fold_turns": fold_turns,
        "after_statement_ms": after_statement,
        "known_after_s": known_after,
    }


def report(figures: dict[str, Any]) -> None:
    """Print the table and the closing line."""
    median = figures["median_ms"]
    print(f"\nordinary turns: median first token {median:.0f} ms")
    print("| measured | first token | vs median |\n|---|---:|---:|")
    for turn, ms in figures["fold_turns"]:
        print(f"| turn {turn} (new summary) | {ms:.0f} ms | {ms / median:.2f}x |")
    slowest_turn, slowest_ms = figures["slowest_ordinary"]
    print(
        f"| turn {slowest_turn} (slowest ordinary) | {slowest_ms:.0f} ms | {slowest_ms / median:.2f}x |"
    )
    for ms in figures["after_statement_ms"]:
        print(f"| right after a statement | {ms:.0f} ms | {ms / median:.2f}x |")
    fold_ratio = max(ms for _, ms in figures["fold_turns"]) / median
    statement_ratio = max(figures["after_statement_ms"]) / median
    known = [s for s in figures["known_after_s"] if s is not None]
    known_text = f"{max(known):.1f}" if len(known) == len(figures["known_after_s"]) else "never"
    print(
        f"first_token: median_ms={median:.0f} fold_ratio_max={fold_ratio:.2f} "
        f"slowest_ratio={slowest_ms / median:.2f} "
        f"statement_ratio_max={statement_ratio:.2f} known_after_s_max={known_text}"
    )


def main() -> None:
    """Start a dev server with the embedded model, measure, stop it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=3, help="fold turns to measure (default 3)")
    parser.add_argument(
        "--pause",
        type=float,
        default=PAUSE_S,
        help=f"seconds between a reply and the next message (default {PAUSE_S:g}; 0: none)",
    )
    args = parser.parse_args()
    # Stopped with SIGTERM, still stop the server (and its model) in the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=Path(agent.__file__).parent,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"code: {Path(agent.__file__).parent} at {commit}; budget {BUDGET} tokens")
    with tempfile.TemporaryDirectory(prefix="first-token-") as workdir:
        write_config(Path(workdir))
        env = server_environment(
            CHATBOT_MAX_HISTORY_TOKENS=str(BUDGET),
            CHATBOT_REMEMBER="true",
            CHATBOT_DATA_DIR=str(Path(workdir) / "data"),
        )
        server = DevServer(workdir=Path(workdir), port=free_port(), env=env)
        server.start()
        try:
            print(f"pause between turns: {args.pause:g} s (none after a statement)")
            report(asyncio.run(measure(server.url, args.folds, args.pause)))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
