"""The dev server's own floor: what a trivial graph takes per run, and what lowers it.

A bare ``langgraph dev`` (only the one-node constant graph: no auth, no web
app, no checkpointer of ours) runs turns back to back on one thread through
``runs.wait`` and ``runs.stream``. Then the source of the in-memory runtime is
read to find the queue's idle poll and whether anything configures it, the
settings that exist are measured, and, for diagnosis only, the poll is
shortened by a patch to show how much of the floor it is.
"""

from __future__ import annotations

import inspect
import os
import re
import time
from pathlib import Path
from typing import Any

from langgraph_sdk import get_client

from agent.testing.turns import user
from bench.perf.common import (
    CONSTANT_GRAPH,
    dev_server,
    run_log_records,
)
from bench.perf.stats import median

FAST_POLL_DIR = Path(__file__).with_name("fast_poll")
"""Holds the diagnosis-only ``sitecustomize`` that shortens the poll."""

BARE_CONFIG: dict[str, Any] = {"dependencies": ["."], "graphs": {"constant": CONSTANT_GRAPH}}


async def runs_per_mode(url: str, runs: int) -> dict[str, list[float]]:
    """Run ``runs`` turns back to back through each of ``runs.wait`` and ``runs.stream``."""
    client = get_client(url=url, api_key=None)
    thread = (await client.threads.create())["thread_id"]
    await client.runs.wait(thread, "constant", input=user("warm up"))
    seconds: dict[str, list[float]] = {"wait": [], "stream": []}
    for turn in range(runs):
        for mode in ("wait", "stream"):
            started = time.perf_counter()
            if mode == "wait":
                await client.runs.wait(thread, "constant", input=user(f"turn {turn}"))
            else:
                async for _part in client.runs.stream(
                    thread, "constant", input=user(f"turn {turn}")
                ):
                    pass
            seconds[mode].append(time.perf_counter() - started)
    return seconds


async def measure_setting(
    label: str,
    short: str,
    runs: int,
    env: dict[str, str] | None = None,
    jobs: int | None = None,
) -> dict[str, Any]:
    """Measure the floor on a bare server started with ``env`` and ``jobs``."""
    with dev_server(config=BARE_CONFIG, env=env, jobs=jobs, prefix="chatbot-perf-floor-") as s:
        seconds = await runs_per_mode(s.url, runs)
        records = run_log_records(s.log())[1:]  # not the warm-up
    return {
        "label": label,
        "short": short,
        "wait_ms": median(seconds["wait"]) * 1000,
        "stream_ms": median(seconds["stream"]) * 1000,
        "queue_ms": median([float(r["run_wait_time_ms"]) for r in records]),
        "exec_ms": median([float(r["run_exec_ms"]) for r in records]),
        "runs": runs,
        "wait_runs_ms": [round(x * 1000, 1) for x in seconds["wait"]],
        "stream_runs_ms": [round(x * 1000, 1) for x in seconds["stream"]],
    }


def find_poll() -> dict[str, Any]:
    """Locate the queue's idle poll in the installed runtime and tell whether it is configurable."""
    from langgraph_runtime_inmem import ops, queue

    source, first_line = inspect.getsourcelines(ops.Runs.next)
    text = "".join(source)
    sleep = re.search(r"await asyncio\.sleep\(([^)]*)\)", text)
    cutoff = re.search(r"created_at.*< now", text)
    site = Path(ops.__file__).parents[1]
    where = Path(ops.__file__).relative_to(site)
    line = first_line + next(i for i, code in enumerate(source) if sleep and sleep.group(0) in code)
    literal = bool(sleep and re.fullmatch(r"[\d.]+", sleep.group(1)))
    queue_source = inspect.getsource(queue.queue)
    return {
        "where": f"{where}:{line} (Runs.next, called by {Path(queue.__file__).name}:queue)",
        "code": sleep.group(0) if sleep else "",
        "seconds": float(sleep.group(1)) if literal and sleep else None,
        "configurable": not literal,
        "cutoff_before_sleep": bool(cutoff) and text.index("now =") < text.index("sleep("),
        "waits_only_when_idle": "wait = run is None" in queue_source,
    }


async def measure(runs: int = 6) -> dict[str, Any]:
    """Measure the floor by default, with the settings that exist, and with the poll patched."""
    poll = find_poll()
    python_path = os.pathsep.join(filter(None, [str(FAST_POLL_DIR), os.environ.get("PYTHONPATH")]))
    settings = [
        await measure_setting("default (--n-jobs-per-worker 1)", "default", runs),
        await measure_setting("--n-jobs-per-worker 10", "10 jobs", runs, jobs=10),
        await measure_setting(
            "BG_JOB_ISOLATED_LOOPS=true",
            "isolated loops",
            runs,
            env={"BG_JOB_ISOLATED_LOOPS": "true"},
        ),
        await measure_setting(
            "poll patched to 0.01 s (diagnosis, not a setting)",
            "poll 0.01 s\n(patched)",
            runs,
            env={"PYTHONPATH": python_path, "BENCH_QUEUE_POLL_S": "0.01"},
        ),
    ]
    settings[-1]["diagnostic"] = True
    default = settings[0]["wait_ms"]
    lowered_by = [
        s["label"] for s in settings[1:] if not s.get("diagnostic") and s["wait_ms"] < 0.8 * default
    ]
    return {"poll": poll, "settings": settings, "floor_ms": default, "lowered_by": lowered_by}
