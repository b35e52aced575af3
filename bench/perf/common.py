"""What every measurement shares: statistics, servers, the instant model, the machine."""

from __future__ import annotations

import contextlib
import datetime
import importlib.metadata
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from agent.models.local.launcher import free_port
from agent.testing.dev_server import (
    PROJECT_ROOT,
    DevServer,
    server_environment,
    write_config,
)

CONSTANT_GRAPH = f"{PROJECT_ROOT / 'bench' / 'perf' / 'constant_graph.py'}:builder"
"""The one-node constant graph, as ``langgraph.json`` names it."""

PACKAGES = (
    "langgraph",
    "langgraph-api",
    "langgraph-runtime-inmem",
    "langgraph-cli",
    "langgraph-sdk",
    "langchain-openai",
    "llama_cpp_python",
)
"""The dependencies whose versions the figures depend on."""

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RUN_DONE = re.compile(r"Background run succeeded.*")
_FIELD = re.compile(r"(\w+)=(\S+)")


def machine() -> dict[str, Any]:
    """Describe where the figures come from: date, CPU, cores, RAM, versions."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram_gb = math.nan
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = int(line.split()[1]) / 1024**2
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "missing"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(ram_gb, 1),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "commit": commit,
        "load": [round(x, 2) for x in os.getloadavg()],
        "packages": versions,
    }


def run_log_records(log: str) -> list[dict[str, str]]:
    """Return the fields of every "Background run succeeded" line of a server log.

    The in-memory runtime logs, per run, ``graph_id``, ``run_exec_ms`` (the
    graph's own execution) and ``run_wait_time_ms`` (time spent in the queue).
    """
    records = []
    for match in _RUN_DONE.finditer(_ANSI.sub("", log)):
        records.append(dict(_FIELD.findall(match.group(0))))
    return records


def log_seconds(log: str, pattern: str) -> float:
    """Return the number of seconds a log line matching ``pattern`` reports (NaN if none).

    ``pattern`` must hold one group that captures the number.
    """
    found = re.search(pattern, _ANSI.sub("", log))
    return float(found.group(1)) if found else math.nan


@contextlib.contextmanager
def instant_model() -> Iterator[str]:
    """Run the instant scripted model server in its own process; yield its base URL.

    Its own process, not a thread of this one, so that it does not compete with
    the benchmark's client for this interpreter's GIL.
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "agent.testing.scripted_model", "--port", str(port)],
        cwd=PROJECT_ROOT,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the instant model server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def dev_server(
    *,
    config: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    jobs: int | None = None,
    prefix: str = "chatbot-perf-",
) -> Iterator[DevServer]:
    """Run ``langgraph dev`` in a fresh temporary directory for the block.

    ``config`` None serves the project's ``langgraph.json`` (with the constant
    graph added beside ``chatbot``); otherwise ``config`` is the whole file.
    ``env`` adds to the test servers' environment (no OPENAI_*: the embedded
    model unless ``OPENAI_BASE_URL`` is given). The directory, with the server's
    log, is removed afterwards unless ``$BENCH_KEEP_DIRS`` is set.
    """
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    if config is None:
        graphs = json.loads(write_config(workdir).read_text())["graphs"]
        write_config(workdir, graphs={**graphs, "constant": CONSTANT_GRAPH})
    else:
        (workdir / "langgraph.json").write_text(json.dumps(config, indent=2))
    server = DevServer(
        workdir=workdir,
        port=free_port(),
        env=server_environment(**(env or {})),
        extra_args=["--n-jobs-per-worker", str(jobs)] if jobs is not None else [],
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()
        if not os.environ.get("BENCH_KEEP_DIRS"):
            shutil.rmtree(workdir, ignore_errors=True)
