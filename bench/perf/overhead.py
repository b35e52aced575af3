"""Server overhead per turn: the chatbot graph versus a one-node constant graph.

One ``langgraph dev`` serves both graphs (the project's ``langgraph.json`` with
``constant`` added), with the instant scripted model behind ``OPENAI_BASE_URL``.
The two graphs take turns, each on its own thread, through ``runs.wait``.
Reported: the client's milliseconds per turn, and the graph's own execution
time as the server logs it (``run_exec_ms``), which the queue's poll does not
blur.
"""

from __future__ import annotations

import time
from typing import Any

from langgraph_sdk import get_client

from agent.testing.turns import user
from bench.perf.common import dev_server, instant_model, run_log_records
from bench.perf.stats import median, ratio

GRAPHS = ("chatbot", "constant")


async def openai_transform_ms(messages: int, repeats: int = 20) -> float:
    """Return the ms the OpenAI SDK spends preparing a request of ``messages`` messages.

    ``chat.completions.create`` walks every message through its TypedDict
    annotations before sending (``openai._utils._transform``); the cost grows
    with the prompt, which the token budget bounds.
    """
    from openai._utils._transform import async_maybe_transform
    from openai.types.chat.completion_create_params import CompletionCreateParamsStreaming

    body = {
        "model": "bench",
        "stream": True,
        "temperature": 0.0,
        "messages": [
            {"role": ("user", "assistant")[i % 2], "content": f"Turn {i}: the weather is nice."}
            for i in range(messages)
        ],
    }
    await async_maybe_transform(body, CompletionCreateParamsStreaming)
    started = time.perf_counter()
    for _ in range(repeats):
        await async_maybe_transform(body, CompletionCreateParamsStreaming)
    return (time.perf_counter() - started) / repeats * 1000


async def measure(turns: int = 10) -> dict[str, Any]:
    """Alternate ``turns`` turns of each graph on one server; return medians and ratios."""
    seconds: dict[str, list[float]] = {graph: [] for graph in GRAPHS}
    with (
        instant_model() as base_url,
        dev_server(
            env={"OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "bench"},
            prefix="chatbot-perf-overhead-",
        ) as server,
    ):
        client = get_client(url=server.url, api_key=None)
        threads = {graph: (await client.threads.create())["thread_id"] for graph in GRAPHS}
        for turn in range(-1, turns):  # turn -1 warms up
            order = GRAPHS if turn % 2 == 0 else GRAPHS[::-1]
            for graph in order:
                started = time.perf_counter()
                values = await client.runs.wait(
                    threads[graph], graph, input=user(f"Turn {turn}: the weather is nice.")
                )
                if not isinstance(values, dict) or "__error__" in values:
                    raise RuntimeError(f"{graph} failed: {values}")
                if turn >= 0:
                    seconds[graph].append(time.perf_counter() - started)
        records = run_log_records(server.log())
    figures: dict[str, Any] = {}
    for graph in GRAPHS:
        executed = [float(r["run_exec_ms"]) for r in records if r.get("graph_id") == graph][1:]
        figures[graph] = {
            "turn_ms": median(seconds[graph]) * 1000,
            "exec_ms": median(executed),
            "turns_ms": [round(s * 1000, 1) for s in seconds[graph]],
            "execs_ms": executed,
        }
    ours, constant = figures["chatbot"], figures["constant"]
    return {
        **figures,
        "turn_ratio": ratio(ours["turn_ms"], constant["turn_ms"]),
        "exec_ratio": ratio(ours["exec_ms"], constant["exec_ms"]),
        "exec_extra_ms": ours["exec_ms"] - constant["exec_ms"],
        "turns": turns,
        "openai_transform_ms": {str(n): await openai_transform_ms(n) for n in (2, 20, 100)},
    }
