"""Housekeeping under the server: one housekeeper on the main loop, a clean stop, failures told.

The server's lifespan (``agent.server.webapp``) runs here with stand-ins for
what it starts (the embedded model server, the checkpointer): each test runs
on an event loop of its own, as the server's main loop, and runs stand on
loops of their own in threads, as with ``BG_JOB_ISOLATED_LOOPS``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore
from starlette.requests import Request

from agent import chore_health, housekeeping, settings
from agent.conversation.context import Context
from agent.conversation.prompt import message_text
from agent.conversation.prompts import SUMMARIZER_INSTRUCTIONS
from agent.graph import build_graph
from agent.memory import extraction
from agent.models.gate import gate
from agent.server import webapp
from agent.server.tokens import create_token
from agent.testing.fake_chat_model import RecordingChatModel

THREAD = "u1/t1"
"""The housekeeping key of the thread the runs below belong to."""


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Stand in for what the lifespan starts; return the log of what happened, in order."""
    happened: list[str] = []

    @contextlib.asynccontextmanager
    async def model_server() -> AsyncIterator[str]:
        happened.append("model server started")
        yield "http://127.0.0.1:1/v1"
        happened.append("model server stopped")

    @contextlib.asynccontextmanager
    async def saver() -> AsyncIterator[object]:
        yield object()

    async def nothing(*_args: object) -> Any:
        return None

    for name, stand_in in {
        "embedded_model_server": model_server,
        "checkpointer": saver,
        "describe": nothing,
        "recover_threads": nothing,
        "selected_kind": lambda: "embedded",
        "forward_delta_history": lambda: None,
        "announce_url": lambda: None,
        "withdraw_url": lambda _path: None,
        "load_chat_model": lambda _context: RecordingChatModel(reply=lambda _prompt: "ok"),
    }.items():
        monkeypatch.setattr(webapp, name, stand_in)
    monkeypatch.setattr(webapp.settings, "check_all", lambda: None)
    monkeypatch.setattr(webapp.language, "warm_up", lambda: None)
    monkeypatch.setattr(webapp, "_server_store", nothing, raising=False)
    monkeypatch.delenv(settings.LOCAL_MODEL_URL.name, raising=False)
    return happened


def on_a_loop_of_its_own(main: Callable[[], Awaitable[None]]) -> None:
    """Run ``main()`` on a fresh event loop, as the server's main loop."""
    asyncio.run(main())  # type: ignore[arg-type]


class RunLoop:
    """An event loop in a thread of its own that runs one run at a time, still between runs.

    As ``BG_JOB_ISOLATED_LOOPS`` makes them: the LangGraph server's
    ``BgLoopRunner`` runs each run to its end on such a loop, then leaves it.
    """

    def __init__(self) -> None:
        self._runner = asyncio.Runner()
        self._thread = concurrent.futures.ThreadPoolExecutor(1)

    def run(self, run: Callable[[], Awaitable[None]]) -> None:
        """Run ``run()`` to its end on this loop (blocking the caller's loop meanwhile)."""
        self._thread.submit(self._runner.run, run()).result()  # type: ignore[arg-type]

    def close(self) -> None:
        self._thread.submit(self._runner.close).result()
        self._thread.shutdown()


@pytest.fixture
def run_loops() -> Iterator[list[RunLoop]]:
    loops = [RunLoop(), RunLoop()]
    yield loops
    for loop in loops:
        loop.close()


def test_chores_of_runs_on_isolated_loops_run_on_the_main_loop_one_per_thread(
    events: list[str], run_loops: list[RunLoop]
) -> None:
    done: list[tuple[str, bool]] = []

    async def main() -> None:
        main_loop = asyncio.get_running_loop()

        def turn(name: str) -> Callable[[], Awaitable[None]]:
            async def chore() -> None:
                done.append((name, asyncio.get_running_loop() is main_loop))

            async def run() -> None:  # a turn's run: its reply is written, its chore queued
                housekeeping.housekeeper(1).schedule(THREAD, chore)

            return run

        async with webapp.lifespan(webapp.app):
            # Three turns of one thread, on two run loops, before the main loop gets to them.
            for number, name in enumerate(["first", "second", "third"]):
                run_loops[number % 2].run(turn(name))
            await housekeeping.drained()
            assert done == [("third", True)], "the newest turn's chore, on the main loop"

    on_a_loop_of_its_own(main)


def test_the_embedded_model_reads_the_memory_instructions_at_start(
    events: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    read = threading.Event()
    model = RecordingChatModel(reply=lambda _prompt: read.set() or "ok")
    monkeypatch.setattr(webapp, "load_chat_model", lambda _context: model)

    async def main() -> None:
        async with webapp.lifespan(webapp.app):
            assert await asyncio.to_thread(read.wait, 10), "read before any turn"

    on_a_loop_of_its_own(main)
    [prompt] = model.prompts
    expected = extraction.prompt("")
    assert [type(m) for m in prompt] == [type(m) for m in expected]
    assert [m.content for m in prompt] == [m.content for m in expected]
    options = model.options[0]
    assert options["extra_headers"] == {"X-Chatbot-Purpose": "memory"}, "on the background context"
    cap = options.get("max_tokens") or options.get("extra_body", {}).get("max_tokens")
    assert cap == 1, "read, not answered"


def test_shutdown_stops_a_chore_mid_call_before_the_model_server_stops(
    events: list[str],
) -> None:
    async def main() -> None:
        began = asyncio.Event()

        async def summarizer_call() -> str:
            events.append("summarizer call began")
            began.set()
            try:
                await asyncio.Event().wait()  # the model is still writing
            finally:
                events.append("summarizer call stopped")
            return "never"

        async def fold() -> None:
            await gate(exclusive=True).background(summarizer_call)
            events.append("summary saved")  # never: a half-done fold saves nothing

        async def learn() -> None:
            events.append("memory began")

        async with webapp.lifespan(webapp.app):
            housekeeping.housekeeper(1).schedule(THREAD, fold)
            housekeeping.housekeeper(1).schedule("u1/t2", learn)  # waits: one worker
            await began.wait()
        events.append("store closed")  # the server's own lifespan closes it after ours

    on_a_loop_of_its_own(main)
    assert events == [
        "model server started",
        "summarizer call began",
        "summarizer call stopped",
        "model server stopped",
        "store closed",
    ]


def summarizer_fails(messages: list[BaseMessage]) -> str:
    """Answer replies; fail every summarizer call, as a broken model or store would."""
    if message_text(messages[0]).startswith(SUMMARIZER_INSTRUCTIONS[:40]):
        raise RuntimeError("the summarizer is broken")
    return "Nice, go on."


def extraction_fails(messages: list[BaseMessage]) -> str:
    """Answer replies; fail every memory extraction, as a broken model would."""
    if extraction.MESSAGE_PREFIX in message_text(messages[-1]):
        raise RuntimeError("the extractor is broken")
    return "Nice, go on."


@pytest.fixture
def health() -> Iterator[None]:
    chore_health.forget()
    yield
    chore_health.forget()


async def health_report() -> tuple[int, dict[str, Any]]:
    response = await webapp.health(Request({"type": "http", "method": "GET", "headers": []}))
    return response.status_code, json.loads(bytes(response.body))


async def test_a_fold_that_keeps_failing_is_logged_as_an_error_and_reported(
    health: None, caplog: pytest.LogCaptureFixture
) -> None:
    model = RecordingChatModel(reply=summarizer_fails)
    graph = build_graph(lambda _context: model).compile(
        checkpointer=InMemorySaver(), store=InMemoryStore()
    )
    config: Any = {"configurable": {"thread_id": "failing"}}
    context = Context(max_history_tokens=300, remember=False)
    fold = chore_health.report()["chores"]["summary fold"]
    turns = 0
    with caplog.at_level(logging.WARNING):
        while fold["failures_in_a_row"] < chore_health.ALERT_AFTER and turns < 40:
            turns += 1
            text = f"Turn {turns}: I walked in the park today and saw some birds."
            payload = {"messages": [{"role": "user", "content": text}]}
            await graph.ainvoke(payload, config, context=context)
            await housekeeping.drained()
            fold = chore_health.report()["chores"]["summary fold"]
    assert fold["failures_in_a_row"] == chore_health.ALERT_AFTER
    assert fold["last_error"] == "RuntimeError: the summarizer is broken"
    alerts = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(alerts) == 1, "one ERROR when the streak reaches the threshold"
    assert "summary fold has failed 3 times" in alerts[0].getMessage()
    assert "CHATBOT_SUMMARIZE=false" in alerts[0].getMessage()
    status, report = await health_report()
    assert (status, report["ok"], report["failing"]) == (503, False, ["summary fold"])

    model.reply = lambda _messages: "The user walks in the park."  # the model is fixed
    hello = {"messages": [{"role": "user", "content": "Hello"}]}
    await graph.ainvoke(hello, config, context=context)
    await housekeeping.drained()
    status, report = await health_report()
    assert (status, report["ok"]) == (200, True)


async def test_a_memory_that_keeps_failing_is_reported_though_learning_goes_on(
    health: None,
) -> None:
    """Learning keeps a message it could not read for the next turn; the failure still counts."""
    model = RecordingChatModel(reply=extraction_fails)
    graph = build_graph(lambda _context: model).compile(
        checkpointer=InMemorySaver(), store=InMemoryStore()
    )
    config: Any = {"configurable": {"thread_id": "forgetful"}}
    context = Context(summarize=False)
    said = ["Je m'appelle Anouk.", "J'habite à Sète.", "Je joue du basson."]
    for text in said[: chore_health.ALERT_AFTER]:
        await graph.ainvoke(
            {"messages": [{"role": "user", "content": text}]}, config, context=context
        )
        await housekeeping.drained()
    status, report = await health_report()
    assert (status, report["failing"]) == (503, ["memory"])
    assert report["chores"]["memory"]["last_error"] == "RuntimeError: the extractor is broken"


async def test_with_auth_on_health_shows_errors_only_to_a_caller_with_a_token(
    health: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "health-test-secret-long-enough-for-hs256-signing"
    monkeypatch.setenv(settings.AUTH_SECRET.name, secret)
    for _ in range(chore_health.ALERT_AFTER):
        chore_health.failed(RuntimeError("connect to http://10.1.2.3:8000 refused"), "memory")

    def asked(headers: list[tuple[bytes, bytes]]) -> Request:
        return Request({"type": "http", "method": "GET", "headers": headers})

    anonymous = await webapp.health(asked([]))
    assert anonymous.status_code == 503
    assert json.loads(bytes(anonymous.body)) == {"ok": False, "failing": ["memory"]}
    bearer = f"Bearer {create_token('operator', secret)}".encode()
    known = await webapp.health(asked([(b"authorization", bearer)]))
    shown = json.loads(bytes(known.body))
    assert known.status_code == 503
    assert "10.1.2.3" in shown["chores"]["memory"]["last_error"]
