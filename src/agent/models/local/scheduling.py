"""Replies first inside the embedded model server: two contexts, and background work that yields.

llama-cpp-python's app serves one ``Llama`` (one context, one cached prompt)
behind one lock, and reads a prompt it has begun to its end before it looks
at its client. So a memory extraction or a summary sent between two replies
replaced the conversation's cached prompt, and a reply that came while it was
being read waited for the rest of it (measured: 3.3-3.8 s, issue 27).

Here, instead:

* **Two contexts on the same mapped model file.** Replies, and warm-ups (which
  read the next reply's prompt ahead), use the reply context; summaries and
  memory extractions (``X-Chatbot-Purpose``) use a background context of their
  own, so they never evict the conversation's prompt. Each context serves one
  request at a time (:class:`Contexts`).
* **One computation at a time, replies first.** Every batch a context reads
  or generates takes :class:`Scheduler`'s turn. Background requests read in
  batches of :data:`BACKGROUND_STEP` tokens and, from the moment a reply
  request arrives (:class:`RepliesFirst`) until it ends, start no new batch: a
  summary or an extraction pauses (and goes on after the reply, its context's
  prompt intact), a warm-up on the reply context stops (:class:`Preempted`),
  since the reply needs that context and reads its prompt itself. So a reply
  waits for one small batch at most.
* **A client that left ends its request** at its next batch (:class:`ClientGone`),
  not after the whole prompt.
* **One thread computes.** Every batch of both contexts runs on the
  scheduler's one compute thread, whichever thread asked for it. llama.cpp's
  OpenMP build gives every thread that computes a team of its own, and once
  more OpenMP threads live than there are cores, GNU OpenMP's barriers stop
  spinning and sleep between every operation: generation in the server ran
  about 1.4x slower than in process once the main thread had read one prompt
  (measured; ``docs/embedded-model.md``).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException

PURPOSE_HEADER = b"x-chatbot-purpose"
"""Names a background request's purpose (``agent.turn.PURPOSE_HEADER``); replies send none."""

WARM_UP = "warm-up"
"""The purpose of a request that reads the next reply's prompt ahead: it uses the reply context."""

BACKGROUND_STEP = 32
"""Tokens a background request reads between two looks at whether a reply is waiting."""

COMPLETION_PATHS = ("/v1/chat/completions", "/v1/completions")
"""The routes that run the model (the others only tokenize or list)."""

FIGURES_PATH = "/extras/scheduling"
"""The route that tells what the server read for whom (:meth:`Scheduler.figures`)."""


class Yielded(HTTPException):
    """A background request stopped to let a reply through: answered 503, logged as no error."""

    def __init__(self) -> None:
        """Answer 503 (llama-cpp-python's route handler passes FastAPI's HTTP errors on)."""
        super().__init__(status_code=503, detail=self.__doc__)


class Preempted(Yielded):
    """A background request on the reply context stopped for a reply."""


class ClientGone(Yielded):
    """The client of a background request left; its reading stopped."""


@dataclass
class Asker:
    """Who a request is for: a reply (no purpose) or background work, and whether it left."""

    purpose: str = ""
    gone: threading.Event = field(default_factory=threading.Event)

    @property
    def is_reply(self) -> bool:
        """Tell whether a user waits for this request's tokens."""
        return not self.purpose


ASKER: contextvars.ContextVar[Asker | None] = contextvars.ContextVar("asker", default=None)
"""The request being served in this context (None: the server itself, treated as a reply)."""


class Scheduler:
    """Lets one batch compute at a time, on one thread; background batches wait for replies."""

    def __init__(self) -> None:
        """Create a scheduler with no reply waiting and nothing computing."""
        self._turn = threading.Condition()
        self._replies = 0
        self._busy = False
        self._computer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama-compute")
        self.read: dict[str, int] = {}
        """Tokens read so far (prompts and generated tokens) by purpose, ``reply`` for replies."""

    def figures(self) -> dict[str, Any]:
        """Return what the server did so far: tokens read by purpose, replies waiting now."""
        with self._turn:
            return {"read": dict(self.read), "replies_waiting": self._replies}

    @contextlib.contextmanager
    def reply_waiting(self) -> Iterator[None]:
        """Count a reply from its request's arrival to its end: background work holds meanwhile."""
        with self._turn:
            self._replies += 1
        try:
            yield
        finally:
            with self._turn:
                self._replies -= 1
                self._turn.notify_all()

    def left(self, asker: Asker) -> None:
        """Mark ``asker``'s client gone; a batch waiting for its turn then gives up."""
        with self._turn:
            asker.gone.set()
            self._turn.notify_all()

    @contextlib.contextmanager
    def batch(self, asker: Asker, stop_for_replies: bool) -> Iterator[None]:
        """Hold the turn for one batch of ``asker``'s.

        A background batch waits while a reply is waiting, or raises
        :class:`Preempted` if ``stop_for_replies``; one whose client left
        raises :class:`ClientGone`.
        """
        with self._turn:
            while True:
                if asker.gone.is_set() and not asker.is_reply:
                    raise ClientGone
                if self._replies and not asker.is_reply:
                    if stop_for_replies:
                        raise Preempted
                elif not self._busy:
                    break
                self._turn.wait()
            self._busy = True
        try:
            yield
        finally:
            with self._turn:
                self._busy = False
                self._turn.notify_all()

    def compute(self, evaluate: Callable[[Sequence[int]], None], tokens: Sequence[int]) -> None:
        """Run ``evaluate(tokens)`` on the compute thread and wait for it (see the module's notes)."""
        self._computer.submit(evaluate, tokens).result()

    def count(self, asker: Asker, tokens: int) -> None:
        """Add ``tokens`` read for ``asker`` to :attr:`read`."""
        with self._turn:
            purpose = asker.purpose or "reply"
            self.read[purpose] = self.read.get(purpose, 0) + tokens


def take_turns(llama: Any, scheduler: Scheduler, stop_for_replies: bool) -> None:
    """Make ``llama`` evaluate in ``scheduler``'s turns and thread, background in small batches.

    ``llama.asker`` names whose request it serves (:meth:`Contexts.held` sets it).
    Stopping between two batches leaves the context consistent: what was read
    stays, and the next request reuses it as a common prefix.
    """
    evaluate: Callable[[Sequence[int]], None] = llama.eval
    llama.asker = None

    def eval_in_turns(tokens: Sequence[int]) -> None:
        asker: Asker = llama.asker or Asker()
        if not tokens:
            scheduler.compute(evaluate, tokens)
            return
        step = len(tokens) if asker.is_reply else BACKGROUND_STEP
        for start in range(0, len(tokens), max(step, 1)):
            with scheduler.batch(asker, stop_for_replies):
                scheduler.compute(evaluate, tokens[start : start + step])
            scheduler.count(asker, len(tokens[start : start + step]))

    llama.eval = eval_in_turns


class Contexts:
    """The reply context and the background context, each serving one request at a time.

    Stands in for llama-cpp-python's ``LlamaProxy``: called, it returns the
    context the current request (:data:`ASKER`) uses.
    """

    def __init__(self, proxy: Any, reply: Any, background: Any, scheduler: Scheduler) -> None:
        """Serve ``reply`` and ``background`` (``Llama`` objects); ``proxy`` lists the model."""
        import anyio

        self.proxy = proxy
        self.reply = reply
        self.background = background
        self.scheduler = scheduler
        self._locks = {id(reply): anyio.Lock(), id(background): anyio.Lock()}
        take_turns(reply, scheduler, stop_for_replies=True)
        take_turns(background, scheduler, stop_for_replies=False)

    def llama_for(self, asker: Asker | None) -> Any:
        """Return the context that serves ``asker``'s request."""
        if asker is None or asker.is_reply or asker.purpose == WARM_UP:
            return self.reply
        return self.background

    def __call__(self, model: str | None = None) -> Any:
        """Return the context of the current request (``model`` is the one served)."""
        return self.llama_for(ASKER.get())

    def __iter__(self) -> Iterator[str]:
        """Name the served model (``GET /v1/models``)."""
        return iter(self.proxy)

    def __getitem__(self, model: str) -> Any:
        """Return the served model's settings."""
        return self.proxy[model]

    async def held(self) -> AsyncIterator[Contexts]:
        """Hold the current request's context while it is served (llama-cpp-python's dependency)."""
        asker = ASKER.get()
        llama = self.llama_for(asker)
        async with self._locks[id(llama)]:
            llama.asker = asker
            try:
                yield self
            finally:
                llama.asker = None


def _yielded(error: BaseException) -> bool:
    """Tell whether ``error`` (or every exception it groups) is a request that yielded."""
    if isinstance(error, Yielded):
        return True
    if isinstance(error, BaseExceptionGroup):
        return all(_yielded(inner) for inner in error.exceptions)
    cause = error.__cause__ or error.__context__
    return cause is not None and _yielded(cause)


class RepliesFirst:
    """ASGI middleware: counts replies from their arrival, ends yielded background requests quietly."""

    def __init__(self, app: Any, scheduler: Scheduler) -> None:
        """Wrap ``app``; ``scheduler`` learns of every reply and of every client that left."""
        self.app = app
        self.scheduler = scheduler

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve one request, knowing whose it is."""
        if scope["type"] != "http" or scope["path"] not in COMPLETION_PATHS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        asker = Asker(purpose=headers.get(PURPOSE_HEADER, b"").decode("latin-1"))
        token = ASKER.set(asker)
        try:
            if asker.is_reply:
                with self.scheduler.reply_waiting():
                    await self.app(scope, receive, send)
            else:
                await self._background(asker, scope, receive, send)
        finally:
            ASKER.reset(token)

    async def _background(self, asker: Asker, scope: Any, receive: Any, send: Any) -> None:
        """Serve a background request; if it yielded, end its response without an error."""
        sent: set[str] = set()

        async def watched_receive() -> Any:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.scheduler.left(asker)
            return message

        async def watched_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                sent.add("start")
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                sent.add("end")
            await send(message)

        try:
            await self.app(scope, watched_receive, watched_send)
        except Exception as error:
            if not _yielded(error):
                raise
            with contextlib.suppress(Exception):  # the client may be gone already
                if "start" not in sent:
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 503,
                            "headers": [(b"content-type", b"text/plain")],
                        }
                    )
                if "end" not in sent:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
