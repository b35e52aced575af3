"""Cold and warm start: from the main command to the first reply, phase by phase.

The main command is ``make dev``, which runs ``langgraph dev`` with the
embedded model; here ``langgraph dev`` runs with the project's configuration
in a temporary directory (``--no-reload``: the file watcher would watch the
checkout). Cold: an empty ``CHATBOT_CACHE_DIR``, so the model file is
assembled first. Warm: the same cache again, in a new directory. The phases
come from the server's log (the launcher logs them); the langgraph share is
what remains of the time until the server answers.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from typing import Any

from langgraph_sdk import get_client

from agent.testing.turns import user
from bench.perf.common import dev_server, log_seconds

FILE_READY = r"Embedded model file ready in ([\d.]+) s"
MODEL_READY = r"Embedded model loaded and serving at \S+ in ([\d.]+) s"
APP_STARTED = r"Application started up in ([\d.]+)s"


async def first_token(url: str) -> tuple[float, float]:
    """Send a first message on a new thread; return when the run began and its first token."""
    client = get_client(url=url, api_key=None)
    thread = (await client.threads.create())["thread_id"]
    began = 0.0
    async for part in client.runs.stream(
        thread,
        "chatbot",
        input=user("Hi! I'm Bob."),
        stream_mode=["messages-tuple", "values"],
    ):
        if part.event == "error":
            raise RuntimeError(f"the first run failed: {part.data}")
        if part.event == "values" and not began:
            began = time.perf_counter()
        if part.event == "messages" and part.data[0].get("content"):
            return began, time.perf_counter()
    raise RuntimeError("the first reply had no text")


async def start(cache_dir: str, label: str) -> dict[str, Any]:
    """Start the server with the model cache in ``cache_dir``; time it up to the first token."""
    started = time.perf_counter()
    with dev_server(env={"CHATBOT_CACHE_DIR": cache_dir}, prefix="chatbot-perf-start-") as s:
        ready = time.perf_counter()
        began, first = await first_token(s.url)
        log = s.log()
    model_file = log_seconds(log, FILE_READY)
    model_load = log_seconds(log, MODEL_READY)
    server_ready = ready - started
    return {
        "label": label,
        "total_s": first - started,
        "model_file_s": model_file,
        "model_load_s": model_load,
        "langgraph_s": server_ready - model_file - model_load,
        "first_reply_s": first - ready,
        "first_reply_queue_s": began - ready,
        "first_reply_run_s": first - began,
        "server_ready_s": server_ready,
        "app_startup_s": log_seconds(log, APP_STARTED),
        "assembled": "Assembled the embedded model file" in log,
    }


async def measure() -> dict[str, Any]:
    """Start cold (empty model cache), then warm (cache kept)."""
    cache_dir = tempfile.mkdtemp(prefix="chatbot-perf-cache-")
    try:
        cold = await start(cache_dir, "cold (empty model cache)")
        warm = await start(cache_dir, "warm (model file cached)")
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    if not cold["assembled"] or math.isnan(cold["model_file_s"]):
        raise RuntimeError("the cold start did not assemble the model file")
    return {"starts": [cold, warm]}
