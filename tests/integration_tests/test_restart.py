"""Threads survive a server restart, and the embedded model lives and dies with the server."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from langgraph_sdk import get_client

from .conftest import start_server
from .helpers import say


def descendants(pid: int) -> set[int]:
    """Return the ids of every live process below ``pid``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def model_processes(server_pid: int) -> set[int]:
    found = set()
    for pid in descendants(server_pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"agent.models.local" in cmdline:
            found.add(pid)
    return found


def wait_gone(pids: set[int], timeout: float = 15.0) -> set[int]:
    deadline = time.monotonic() + timeout
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if Path(f"/proc/{pid}").exists() and not _zombie(pid)}
        time.sleep(0.1)
    return alive


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


async def test_threads_and_messages_survive_a_restart(tmp_path: Path) -> None:
    server = start_server(tmp_path / "restart")
    try:
        client = get_client(url=server.url, api_key=None)
        thread_a = (await client.threads.create())["thread_id"]
        thread_b = (await client.threads.create())["thread_id"]
        await say(client, thread_a, "Hi! I'm Bob")
        await say(client, thread_a, "What's my name?")
        await say(client, thread_b, "What is the capital of France?")
        before = {t: (await client.threads.get_state(t))["values"] for t in (thread_a, thread_b)}

        server.stop()
        assert not (server.workdir / ".langgraph_api" / "chatbot-url").exists()
        server.start()

        client = get_client(url=server.url, api_key=None)
        after = {t: (await client.threads.get_state(t))["values"] for t in (thread_a, thread_b)}
        assert after == before
        assert len(after[thread_a]["messages"]) == 4
        assert len(after[thread_b]["messages"]) == 2
        listed = {t["thread_id"] for t in await client.threads.search(limit=100)}
        assert {thread_a, thread_b} <= listed
        # The restarted server keeps the conversation going.
        values = await say(client, thread_a, "Thanks!")
        assert len(values["messages"]) == 6
    finally:
        server.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["stop", "kill-9"])
def test_embedded_model_stops_with_the_server(tmp_path: Path, sig: signal.Signals) -> None:
    server = start_server(tmp_path / "lifecycle")
    try:
        assert server.process is not None
        models = model_processes(server.process.pid)
        assert len(models) == 1, "the server did not start exactly one embedded model"
        os.kill(server.process.pid, sig)  # the server alone, not its process group
        server.process.wait(timeout=30)
        assert wait_gone(models) == set(), "the embedded model outlived the server"
    finally:
        server.stop()
