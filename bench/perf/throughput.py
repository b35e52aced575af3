"""Throughput with N concurrent threads for several ``--n-jobs-per-worker`` settings.

The chatbot graph with the instant scripted model: N conversations (threads)
at once, each sending a few turns through ``runs.wait``, for N in
:data:`CLIENTS`, on one ``langgraph dev`` per :data:`JOBS` setting.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent.testing.turns import user
from bench.perf.common import dev_server, instant_model
from bench.perf.stats import median, percentile

CLIENTS = (1, 4, 16, 64)
"""Concurrent conversations."""

JOBS = (1, 10, 64)
"""``--n-jobs-per-worker`` settings (``langgraph dev`` defaults to 1)."""

TURNS = {1: 4, 4: 4, 16: 4, 64: 3}
"""Turns per conversation, by number of conversations (keeps the run short)."""


async def _conversation(
    client: LangGraphClient, thread: str, turns: int, latencies: list[float]
) -> None:
    for turn in range(turns):
        started = time.perf_counter()
        values = await client.runs.wait(
            thread, "chatbot", input=user(f"Turn {turn}: I like walking in the park.")
        )
        if not isinstance(values, dict) or "__error__" in values:
            raise RuntimeError(f"a turn failed: {values}")
        latencies.append(time.perf_counter() - started)


async def load(client: LangGraphClient, clients: int, turns: int) -> dict[str, Any]:
    """Run ``clients`` conversations of ``turns`` turns at once; return rate and latency."""
    threads = [(await client.threads.create())["thread_id"] for _ in range(clients)]
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(_conversation(client, t, turns, latencies) for t in threads))
    elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "turns": len(latencies),
        "seconds": elapsed,
        "turns_per_s": len(latencies) / elapsed,
        "p50_ms": median(latencies) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "latencies_ms": [round(x * 1000, 1) for x in latencies],
    }


async def measure(
    jobs: tuple[int, ...] = JOBS, clients: tuple[int, ...] = CLIENTS
) -> dict[str, Any]:
    """Measure every (jobs, clients) pair; one server per jobs setting."""
    rows = []
    with instant_model() as base_url:
        for setting in jobs:
            with dev_server(
                env={"OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "bench"},
                jobs=setting,
                prefix="chatbot-perf-throughput-",
            ) as server:
                client = get_client(url=server.url, api_key=None)
                await load(client, 1, 1)  # warm up
                for count in clients:
                    rows.append({"jobs": setting, **(await load(client, count, TURNS[count]))})
    return {"rows": rows, "turns_per_conversation": {str(k): v for k, v in TURNS.items()}}
