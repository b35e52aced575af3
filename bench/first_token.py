"""Does any reply wait for the bot's housekeeping? First-token times as a user meets them.

A real ``langgraph dev`` with the embedded model (or ``CHATBOT_MODEL_FILE``'s),
driven through the SDK's token stream (``stream_mode="messages-tuple"``), the
way the chat page and the CLI call it. Measured, with a 500-token budget so a
thread folds every few turns:

* **ordinary turns**: the median first token of turns that neither fold nor
  follow a statement (turn 1, which reads the system prompt cold, left out),
  each sent a pause after the reply before it;
* **fold turns**: the first token of every turn whose prompt starts with a
  new summary (``summarized_through`` moved), against that median;
* **the slowest ordinary turn**, against the median: a reply that waited for a
  fold still under way (one the replies already need is let finish) shows here,
  on the turns just before a new summary;
* **after a statement**: a user says something about themselves and, a pause
  after that reply's stream ends, sends the next message: its first token
  against the median (memory extraction of the statement is due right then);
* **known in a new thread**: seconds from the end of a statement's reply until
  the fact is in the user's memory (``/store`` search), i.e. until a new
  conversation would know it.

Each pause of ``--pauses`` (default ``0,8``: none at all, as a script or a
quick typist sends, and a user reading and typing) gets its own server and
threads, one after the other, and the message after a statement waits that
pause too. Prints every turn, then one table per pause and, side by side, each
kind of turn at pause 0 against the longest pause, with the load average over
each pass. Runs against whatever code the ``agent`` package is (put another
checkout's ``src`` first on ``PYTHONPATH`` to measure it: the server is
started from that checkout).

    .venv/bin/python -m bench.first_token            # about 10 minutes on 2 cores
    .venv/bin/python -m bench.first_token --folds 1 --pauses 0  # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
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

PAUSES_S = (0.0, 8.0)
"""Seconds between a reply and the next message: none (a script, a quick typist), and a user
reading and typing. With none, the housekeeping has no time at all between turns."""

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


async def first_token_ms(
    client: LangGraphClient, thread: str, text: str
) -> tuple[float, float, float]:
    """Send ``text``; return ms to the first token, epoch seconds at the end, ms in the queue.

    The queue is the time until the run's ``metadata`` event, which the server
    sends as the run starts.
    """
    started = time.perf_counter()
    first: float | None = None
    queued = math.nan
    async for part in client.runs.stream(
        thread,
        GRAPH_ID,
        input={"messages": [{"role": "user", "content": text}]},
        stream_mode="messages-tuple",
    ):
        if part.event == "error":
            raise RuntimeError(f"the run failed: {part.data}")
        if part.event == "metadata" and math.isnan(queued):
            queued = (time.perf_counter() - started) * 1000
        if first is None and part.event == "messages":
            chunk, metadata = part.data
            if metadata.get("langgraph_node") == "model" and chunk.get("content"):
                first = time.perf_counter() - started
    if first is None:
        raise RuntimeError("no reply token streamed")
    return first * 1000, time.time(), queued


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


async def measure(url: str, folds: int, pause: float, most: int = 40) -> dict[str, Any]:
    """Drive the threads and return every figure; ``pause`` seconds pass between turns.

    The first thread talks until ``folds`` turns started from a new summary, or ``most`` turns.
    """
    client = get_client(url=url, api_key=None)
    ordinary: list[tuple[int, float]] = []
    ordinary_in_run: list[float] = []
    fold_turns: list[tuple[int, float]] = []
    thread = (await client.threads.create())["thread_id"]
    turn, marker = 0, None
    while len(fold_turns) < folds and turn < most:
        turn += 1
        await asyncio.sleep(pause if turn > 1 else 0)  # the user reads the reply, types
        ms, _, queued = await first_token_ms(client, thread, TALK[turn % len(TALK)])
        now = await summarized_through(client, thread)
        folded = now != marker
        marker = now
        if folded:
            fold_turns.append((turn, ms))
        elif turn > 1:
            ordinary.append((turn, ms))
            ordinary_in_run.append(ms - queued)
        print(f"turn {turn:>3}: first token {ms:7.0f} ms{'  (new summary)' if folded else ''}")
    median = statistics.median(ms for _, ms in ordinary)
    after_statement: list[float] = []
    known_after: list[float | None] = []
    for statement, word in STATEMENTS:
        other = (await client.threads.create())["thread_id"]
        await asyncio.sleep(pause)
        await first_token_ms(client, other, TALK[0])  # an ordinary start for this thread
        await asyncio.sleep(pause)
        _, ended, _ = await first_token_ms(client, other, statement)
        # Watched from the statement's end, beside the pause and the next message: polled
        # only after the next reply, the figure could not be less than the pause plus it.
        watch = asyncio.create_task(seconds_until_known(client, word, ended))
        await asyncio.sleep(pause)
        ms, _, _ = await first_token_ms(client, other, TALK[3])
        after_statement.append(ms)
        known = await watch
        known_after.append(known)
        print(f"after {statement!r}: first token {ms:.0f} ms; in memory after {known} s")
    await client.http.client.aclose()
    return {
        "pause": pause,
        "turns": turn,
        "median_ms": median,
        "in_run_median_ms": statistics.median(ordinary_in_run),
        "slowest_ordinary": max(ordinary, key=lambda turn_ms: turn_ms[1]),
        "fold_turns": fold_turns,
        "after_statement_ms": after_statement,
        "known_after_s": known_after,
    }


def report(figures: dict[str, Any]) -> None:
    """Print one pause's table and its closing line."""
    median = figures["median_ms"]
    print(f"\npause {figures['pause']:g} s, load {figures['load']}")
    print(f"ordinary turns: median first token {median:.0f} ms")
    print("| measured | first token | vs median |\n|---|---:|---:|")
    for turn, ms in figures["fold_turns"]:
        print(f"| turn {turn} (new summary) | {ms:.0f} ms | {ms / median:.2f}x |")
    slowest_turn, slowest_ms = figures["slowest_ordinary"]
    print(
        f"| turn {slowest_turn} (slowest ordinary) | {slowest_ms:.0f} ms | {slowest_ms / median:.2f}x |"
    )
    for ms in figures["after_statement_ms"]:
        print(f"| after a statement | {ms:.0f} ms | {ms / median:.2f}x |")
    if not figures["fold_turns"]:
        print(f"| no new summary in {figures['turns']} turns | | |")
    folds = [ms for _, ms in figures["fold_turns"]]
    fold_ratio = max(folds) / median if folds else math.nan
    statement_ratio = max(figures["after_statement_ms"]) / median
    known = [s for s in figures["known_after_s"] if s is not None]
    known_text = f"{max(known):.1f}" if len(known) == len(figures["known_after_s"]) else "never"
    print(
        f"first_token: pause={figures['pause']:g} median_ms={median:.0f} "
        f"fold_ratio_max={fold_ratio:.2f} slowest_ratio={slowest_ms / median:.2f} "
        f"statement_ratio_max={statement_ratio:.2f} known_after_s_max={known_text}"
    )


def kinds(figures: dict[str, Any]) -> dict[str, float]:
    """Return the median first token (ms) of each kind of turn in one pass."""
    return {
        "ordinary": figures["median_ms"],
        "ordinary, from the run's start": figures["in_run_median_ms"],
        "after a statement": statistics.median(figures["after_statement_ms"]),
        "new summary": (
            statistics.median(ms for _, ms in figures["fold_turns"])
            if figures["fold_turns"]
            else math.nan
        ),
        "slowest ordinary": figures["slowest_ordinary"][1],
    }


def side_by_side(passes: list[dict[str, Any]]) -> None:
    """Print each kind of turn at every pause, and the shortest pause against the longest."""
    passes = sorted(passes, key=lambda figures: figures["pause"])
    shortest, longest = passes[0], passes[-1]
    heads = " | ".join(f"pause {f['pause']:g} s" for f in passes)
    print(f"\n| median first token | {heads} | {shortest['pause']:g} s vs {longest['pause']:g} s |")
    print("|---|" + "---:|" * (len(passes) + 1))
    by_pause = [kinds(figures) for figures in passes]
    for kind in by_pause[0]:
        cells = " | ".join(
            "none" if math.isnan(k[kind]) else f"{k[kind]:,.0f} ms" for k in by_pause
        )
        ratio = by_pause[0][kind] / by_pause[-1][kind]
        print(f"| {kind} | {cells} | {'' if math.isnan(ratio) else f'{ratio:.2f}x'} |")
    loads = " | ".join(f"{f['load']}" for f in passes)
    print(f"| load average (1 min, over the pass) | {loads} | |")
    ratios = " ".join(
        f"{kind.replace(' ', '_')}={by_pause[0][kind] / by_pause[-1][kind]:.2f}"
        for kind in by_pause[0]
    )
    print(f"first_token_pauses: {ratios}")


def load_range(samples: list[float]) -> str:
    """Return the 1-minute load average's range over a pass, as ``low-high``."""
    return f"{min(samples):.1f}-{max(samples):.1f}"


async def with_load(url: str, folds: int, pause: float, most: int) -> dict[str, Any]:
    """Measure one pause while sampling the load average every second."""
    samples = [os.getloadavg()[0]]

    async def sample() -> None:
        while True:
            await asyncio.sleep(1)
            samples.append(os.getloadavg()[0])

    sampler = asyncio.create_task(sample())
    try:
        figures = await measure(url, folds, pause, most)
    finally:
        sampler.cancel()
    figures["load"] = load_range(samples)
    return figures


def main() -> None:
    """Start a dev server with the embedded model, measure, stop it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=3, help="fold turns to measure (default 3)")
    parser.add_argument(
        "--turns", type=int, default=40, help="most turns of the first thread (default 40)"
    )
    parser.add_argument(
        "--pauses",
        default=",".join(f"{p:g}" for p in PAUSES_S),
        help="seconds between a reply and the next message, one pass each (default 0,8)",
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
    passes = []
    for pause in (float(p) for p in args.pauses.split(",")):
        passes.append(one_pass(args.folds, pause, args.turns))
        report(passes[-1])
    if len(passes) > 1:
        side_by_side(passes)


def one_pass(folds: int, pause: float, most: int) -> dict[str, Any]:
    """Measure one pause on a server of its own (memory starts empty), then stop it."""
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
            print(f"\npause between turns: {pause:g} s", flush=True)
            return asyncio.run(with_load(server.url, folds, pause, most))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
