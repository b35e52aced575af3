"""Many conversations at once against one dev server: throughput, latency, integrity.

``--conversations`` threads (default 50) each send ``--turns`` turns (default 20)
concurrently, through one ``langgraph dev`` server started with
``--n-jobs-per-worker`` runs at a time, with the instant scripted model. Every
thread is then read back and checked: each message sent is stored exactly
once, in the order sent, each followed by its reply.

    .venv/bin/python -m bench.load
    .venv/bin/python -m bench.load --conversations 10 --turns 5 --jobs 4
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent.testing.dev_server import dev_server_with_scripted_model


async def conversation(
    client: LangGraphClient, index: int, turns: int, latencies: list[float]
) -> tuple[str, list[str]]:
    """Run one conversation; return its thread id and the messages sent."""
    thread = (await client.threads.create())["thread_id"]
    sent = []
    for turn in range(turns):
        text = f"conversation {index} turn {turn}"
        started = time.perf_counter()
        await client.runs.wait(
            thread, "chatbot", input={"messages": [{"role": "user", "content": text}]}
        )
        latencies.append(time.perf_counter() - started)
        sent.append(text)
    return thread, sent


def audit(messages: list[dict[str, Any]], sent: list[str]) -> tuple[int, int, int]:
    """Return (lost, duplicated, out_of_order) for one thread read back."""
    stored = [str(m["content"]) for m in messages if m["type"] == "human"]
    lost = len(set(sent) - set(stored))
    duplicated = len(stored) - len(set(stored))
    in_order = [text for text in stored if text in sent]
    out_of_order = sum(
        1 for a, b in zip(in_order, in_order[1:], strict=False) if sent.index(a) > sent.index(b)
    )
    unanswered = sum(
        1
        for i, m in enumerate(messages)
        if m["type"] == "human" and (i + 1 >= len(messages) or messages[i + 1]["type"] != "ai")
    )
    return lost + unanswered, duplicated, out_of_order


async def main() -> None:
    """Run the load and print the figures; the last line sums them up."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=10, help="--n-jobs-per-worker")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="chatbot-load-"))
    with dev_server_with_scripted_model(
        workdir, extra_args=["--n-jobs-per-worker", str(args.jobs)]
    ) as (server, _model_url):
        client = get_client(url=server.url, api_key=None)
        latencies: list[float] = []
        started = time.perf_counter()
        results = await asyncio.gather(
            *(conversation(client, i, args.turns, latencies) for i in range(args.conversations))
        )
        elapsed = time.perf_counter() - started
        lost = duplicated = out_of_order = 0
        for thread, sent in results:
            messages = (await client.threads.get_state(thread))["values"]["messages"]
            counts = audit(messages, sent)
            lost, duplicated, out_of_order = (
                lost + counts[0],
                duplicated + counts[1],
                out_of_order + counts[2],
            )

    turns = len(latencies)
    p50 = statistics.median(latencies) * 1000
    p95 = statistics.quantiles(latencies, n=20)[18] * 1000
    print(
        f"{args.conversations} conversations x {args.turns} turns, "
        f"--n-jobs-per-worker {args.jobs}: {turns} turns in {elapsed:.1f} s"
    )
    print(f"p50_ms={p50:.0f} p95_ms={p95:.0f}")
    print(
        f"lost={lost} duplicated={duplicated} out_of_order={out_of_order} "
        f"turns_per_s={turns / elapsed:.2f} p95_ms={p95:.0f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
