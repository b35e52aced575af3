"""The embedded server serves replies first: background work yields and keeps off their context.

Fake contexts stand in for llama.cpp's: each records the batches it reads and
can hold one until the test lets it go, so every step is ordered by events.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the embedded model's extra")

from agent.models.local.scheduling import (  # noqa: E402
    ASKER,
    BACKGROUND_STEP,
    Asker,
    ClientGone,
    Contexts,
    Preempted,
    RepliesFirst,
    Scheduler,
)

WAIT_S = 10.0
"""How long a test waits for an event that must come (a failure, not a pace)."""


class FakeContext:
    """A context that reads tokens in batches; ``hold`` pauses it inside a chosen batch."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log
        self.input_ids: list[int] = []
        self.asker: Asker | None = None
        self.hold_at: int | None = None
        self.inside = threading.Event()
        self.release = threading.Event()
        self.threads: list[int] = []
        """The thread each batch was computed on."""

    def eval(self, tokens: Sequence[int]) -> None:
        self.threads.append(threading.get_ident())
        if self.hold_at is not None and len(self.input_ids) >= self.hold_at:
            self.hold_at = None
            self.inside.set()
            assert self.release.wait(WAIT_S)
        self.input_ids.extend(tokens)
        self.log.append(f"{self.name}:{len(tokens)}")

    def read(self, tokens: Sequence[int], asker: Asker) -> None:
        """Read ``tokens`` for ``asker``, as a request holding this context would."""
        self.asker = asker
        try:
            self.eval(tokens)  # the scheduled eval that take_turns put in place
        finally:
            self.asker = None


class FakeProxy:
    def __iter__(self) -> Any:
        return iter(["fake"])


def contexts() -> tuple[Contexts, FakeContext, FakeContext, list[str]]:
    log: list[str] = []
    reply, background = FakeContext("reply", log), FakeContext("background", log)
    return Contexts(FakeProxy(), reply, background, Scheduler()), reply, background, log


def in_thread(target: Any, *args: Any) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target(*args)
        except BaseException as error:  # noqa: BLE001 - the test reads it
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def test_a_reply_arriving_mid_prompt_starts_before_the_background_prompt_ends() -> None:
    served, reply, background, log = contexts()
    prompt = list(range(10 * BACKGROUND_STEP))
    background.hold_at = BACKGROUND_STEP  # inside its second batch
    reader, errors = in_thread(background.read, prompt, Asker("memory"))
    assert background.inside.wait(WAIT_S)

    with served.scheduler.reply_waiting():  # the reply's request has arrived
        background.release.set()  # the batch under way ends; no other starts
        reply.read([1, 2, 3], Asker())
        assert log == [f"background:{BACKGROUND_STEP}"] * 2 + ["reply:3"]
    reader.join(WAIT_S)

    assert not errors, "the extraction paused for the reply, then went on"
    assert background.input_ids == prompt
    assert log[-1] == f"background:{BACKGROUND_STEP}" and len(log) == 11


def test_the_conversation_prompt_is_still_there_after_an_extraction() -> None:
    served, reply, background, _ = contexts()
    conversation = list(range(100))
    reply.read(conversation, Asker())
    for purpose in ("memory", "summary"):
        assert served.llama_for(Asker(purpose)) is background
        background.read(list(range(500, 900)), Asker(purpose))
    assert reply.input_ids == conversation, "no background prompt replaced the reply's"
    assert served.llama_for(Asker()) is reply
    assert served.llama_for(Asker("warm-up")) is reply, "a warm-up reads the reply's prompt"


def test_a_warm_up_stops_for_a_reply_and_leaves_what_it_read() -> None:
    served, reply, _, log = contexts()
    reply.hold_at = BACKGROUND_STEP
    warm_up, errors = in_thread(reply.read, list(range(10 * BACKGROUND_STEP)), Asker("warm-up"))
    assert reply.inside.wait(WAIT_S)
    with served.scheduler.reply_waiting():
        reply.release.set()
        warm_up.join(WAIT_S)
    assert [type(error) for error in errors] == [Preempted]
    assert reply.input_ids == list(range(2 * BACKGROUND_STEP)), "its prefix stays for the reply"
    assert log == [f"reply:{BACKGROUND_STEP}"] * 2


def test_a_background_request_whose_client_left_stops_at_its_next_batch() -> None:
    served, _, background, log = contexts()
    background.hold_at = 0
    asker = Asker("memory")
    reader, errors = in_thread(background.read, list(range(10 * BACKGROUND_STEP)), asker)
    assert background.inside.wait(WAIT_S)
    served.scheduler.left(asker)
    background.release.set()
    reader.join(WAIT_S)
    assert [type(error) for error in errors] == [ClientGone]
    assert log == [f"background:{BACKGROUND_STEP}"]


def test_a_paused_background_request_whose_client_left_stops_without_running() -> None:
    served, _, background, log = contexts()
    asker = Asker("summary")
    with served.scheduler.reply_waiting():
        reader, errors = in_thread(background.read, list(range(BACKGROUND_STEP)), asker)
        served.scheduler.left(asker)
        reader.join(WAIT_S)
    assert [type(error) for error in errors] == [ClientGone]
    assert log == []


def test_replies_read_their_prompt_in_full_batches() -> None:
    _, reply, _, log = contexts()
    reply.read(list(range(700)), Asker())
    assert log == ["reply:700"], "llama.cpp splits it by n_batch itself"


async def asgi_call(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> list[Any]:
    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "path": path, "headers": headers}
    await app(scope, receive, send)
    return sent


async def test_the_middleware_tells_replies_from_background_requests() -> None:
    scheduler = Scheduler()
    seen: list[tuple[str | None, bool]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        asker = ASKER.get()
        seen.append((asker and asker.purpose, bool(scheduler._replies)))
        if asker is not None and asker.purpose == "memory":
            raise Preempted

    middleware = RepliesFirst(app, scheduler)
    await asgi_call(middleware, "/v1/chat/completions", [])
    sent = await asgi_call(middleware, "/v1/chat/completions", [(b"x-chatbot-purpose", b"memory")])
    await asgi_call(middleware, "/v1/models", [])
    assert seen == [("", True), ("memory", False), (None, False)]
    assert [message.get("status") for message in sent[:1]] == [503], "ended, not an error"
    assert not scheduler._replies


async def test_each_context_is_lent_to_one_request_which_it_then_knows() -> None:
    served, reply, background, _ = contexts()
    ASKER.set(Asker("memory"))
    holder = served.held()
    await anext(holder)
    assert background.asker is not None and background.asker.purpose == "memory"
    assert reply.asker is None
    ASKER.set(Asker())
    other = served.held()
    await anext(other)  # the reply context is free: a reply need not wait for the extraction
    assert reply.asker is not None and reply.asker.is_reply
    for held in (holder, other):
        with pytest.raises(StopAsyncIteration):
            await anext(held)
    assert background.asker is None and reply.asker is None


def test_every_batch_of_both_contexts_is_computed_on_one_thread() -> None:
    served, reply, background, _ = contexts()
    for context, asker in ((reply, Asker()), (background, Asker("memory"))):
        for _ in range(2):  # each request from a thread of its own, as the server's are
            reader, errors = in_thread(context.read, list(range(2 * BACKGROUND_STEP)), asker)
            reader.join(WAIT_S)
            assert not errors
    reply.read([1, 2], Asker())  # and one from this thread

    computed_on = reply.threads + background.threads
    assert (len(reply.threads), len(background.threads)) == (3, 4), "every batch was computed"
    assert len(set(computed_on)) == 1, "llama.cpp's OpenMP team lives on one thread only"
    assert threading.get_ident() not in computed_on
