"""The embedded model server: llama-cpp-python's OpenAI-compatible app for one GGUF file.

Run as ``python -m agent.models.local --model FILE --port N``; the launcher does
this for you. Besides the OpenAI routes it answers ``GET /extras/chatbot`` with
what clients need to know of the model it serves (:class:`ServedModel`).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent import settings
from agent.models.local.chat_formats import GEMMA, choose_chat_format, register_gemma_format
from agent.models.local.weights import BUNDLED, check_model_file, uses_bundled_model

if TYPE_CHECKING:  # scheduling needs FastAPI, which only the ``local`` extra installs
    from agent.models.local.scheduling import Contexts

INFO_PATH = "/extras/chatbot"
"""The route that describes the served model."""

PROMPT_CACHE_BYTES = 1 << 30
"""llama.cpp state of recent prompts kept in RAM (about 110 MB per full 4k-token prompt of the
bundled model): a memory extraction or a summary between two replies no longer makes the
next reply read its whole prompt again."""


BACKGROUND_CACHE_BYTES = 256 << 20
"""The same for the background context: the memory extraction's long prompt start (its
instructions and examples, about 600 tokens) survives a summary read between two
extractions, and a summary's survives an extraction (a few states of about 30 MB)."""


def compact_prompt_cache(capacity_bytes: int = PROMPT_CACHE_BYTES) -> Any:
    """Return a RAM prompt cache that keeps only what a chat needs of each state.

    llama-cpp-python's ``LlamaRAMCache`` keeps, with every prompt's state, a
    copy of the logits of up to ``n_batch`` tokens (512 x the vocabulary: 311 MB
    for Qwen2.5's 151,936 tokens) and bounds only the rest, so its 1 GiB grew
    past 10 GB of RAM in a long session (measured). Sampling reads the last
    row alone (logprobs of the prompt need ``logits_all``, which the server
    does not set), so that row is what this cache keeps.
    """
    import numpy as np
    from llama_cpp.llama import LlamaState
    from llama_cpp.llama_cache import LlamaRAMCache

    class CompactState(LlamaState):
        rows: int = 0
        """How many rows of logits the state had (what ``load_state`` fills)."""

    class CompactRAMCache(LlamaRAMCache):
        def __setitem__(self, key: Any, value: Any) -> None:
            rows = getattr(value, "rows", 0) or int(value.scores.shape[0])
            last = value.scores[-1:].copy() if len(value.scores) else value.scores.copy()
            compact = CompactState(
                input_ids=value.input_ids,
                scores=last,
                n_tokens=value.n_tokens,
                llama_state=value.llama_state,
                llama_state_size=value.llama_state_size,
                seed=value.seed,
            )
            compact.rows = rows
            super().__setitem__(key, compact)

        def __getitem__(self, key: Any) -> Any:
            stored = super().__getitem__(key)
            rows = stored.rows if isinstance(stored, CompactState) else stored.scores.shape[0]
            width = int(stored.scores.shape[1])
            return LlamaState(
                input_ids=stored.input_ids,
                scores=np.broadcast_to(stored.scores[-1:], (int(rows), width)),
                n_tokens=stored.n_tokens,
                llama_state=stored.llama_state,
                llama_state_size=stored.llama_state_size,
                seed=stored.seed,
            )

    return CompactRAMCache(capacity_bytes)


DEFAULT_N_THREADS = os.cpu_count() or 1
"""Threads for generation and prompt reading, unless ``--n-threads`` says otherwise."""

_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ServedModel:
    """What the server tells about the model it serves.

    Attributes:
        name: The model's name (the bundled model's, or the file's stem).
        chat_format: The llama-cpp-python chat format, or ``file template``.
        n_ctx: The context window in tokens (prompt and reply together).
        per_message: Tokens the chat format adds around each message.
        per_prompt: Tokens it adds once per prompt (the reply's cue, a BOS).
    """

    name: str
    chat_format: str
    n_ctx: int
    per_message: int = 0
    per_prompt: int = 0


PROBES = (
    [{"role": "system", "content": "a"}, {"role": "user", "content": "b"}],
    [
        {"role": "system", "content": "a"},
        {"role": "user", "content": "b"},
        {"role": "assistant", "content": "c"},
        {"role": "user", "content": "d"},
    ],
)
"""Two chats that differ by two messages: what the format adds per message, and per prompt."""


def measure_chat_format(llama: Any, served: ServedModel) -> ServedModel:
    """Return ``served`` with the tokens its chat format adds, as ``llama`` reads them."""

    def prompt_tokens(messages: list[dict[str, str]]) -> int:
        reply = llama.create_chat_completion(messages=messages, max_tokens=1, temperature=0)
        return int(reply["usage"]["prompt_tokens"])

    def text_tokens(messages: list[dict[str, str]]) -> int:
        return sum(
            len(llama.tokenize(m["content"].encode(), add_bos=False, special=True))
            for m in messages
        )

    short, long = (prompt_tokens(probe) for probe in PROBES)
    per_message = max(0, (long - short - (text_tokens(PROBES[1]) - text_tokens(PROBES[0]))) // 2)
    per_prompt = max(0, short - text_tokens(PROBES[0]) - 2 * per_message)
    return replace(served, per_message=per_message, per_prompt=per_prompt)


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to stop this process when the LangGraph server that started it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the launcher still stops us on shutdown
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        sys.exit(0)


def read_metadata(model_path: Path) -> dict[str, Any]:
    """Return the GGUF metadata of ``model_path`` (reads only its vocabulary, not its weights)."""
    from llama_cpp import Llama

    llama = Llama(model_path=str(model_path), vocab_only=True, verbose=False)
    try:
        return dict(llama.metadata)
    finally:
        llama.close()


def describe_model(model_path: Path, metadata: dict[str, Any], n_ctx: int) -> ServedModel:
    """Decide how to serve ``model_path``: its name, chat format and context window.

    The context window is ``n_ctx`` (``CHATBOT_MODEL_CONTEXT``), or less when
    the model was trained on fewer tokens.
    """
    bundled = uses_bundled_model()
    chat_format = choose_chat_format(
        metadata, bundled=bundled, requested=settings.CHAT_FORMAT.get()
    )
    architecture = metadata.get("general.architecture", "")
    trained = int(metadata.get(f"{architecture}.context_length") or n_ctx)
    return ServedModel(
        name=BUNDLED.name if bundled else model_path.stem,
        chat_format=chat_format or "file template",
        n_ctx=min(n_ctx, trained),
    )


def model_settings(
    model_path: Path, served: ServedModel, n_threads: int = DEFAULT_N_THREADS
) -> Any:
    """Return llama-cpp-python's ``ModelSettings`` the embedded server loads the model with."""
    from llama_cpp.server.settings import ModelSettings

    return ModelSettings(
        model=str(model_path),
        model_alias=served.name,
        chat_format=None if served.chat_format == "file template" else served.chat_format,
        n_ctx=served.n_ctx,
        n_threads=n_threads,
        n_threads_batch=n_threads,
        cache=False,  # set after loading: see compact_prompt_cache
        verbose=False,
    )


def lean_save_state(llama: Any) -> None:
    """Make ``llama.save_state`` keep one row of logits, not a row for every token read.

    llama-cpp-python's copies its ``scores`` array, a row of 151,936 floats for
    every token of the prompt and reply (364 MB at 600 tokens), at the end of
    every completion a prompt cache keeps, before the reply's last text goes
    out. Only the last row is ever read back (:func:`compact_prompt_cache`), and
    without ``logits_all`` no other row is even written.
    """
    import ctypes

    import llama_cpp
    from llama_cpp.llama import LlamaState

    def save_state() -> LlamaState:
        context = llama._ctx.ctx
        size = int(llama_cpp.llama_state_get_size(context))
        buffer = (ctypes.c_uint8 * size)()
        written = int(llama_cpp.llama_state_get_data(context, buffer, size))
        if written > size:
            raise RuntimeError("Failed to copy llama state data")
        scores = llama._scores
        state = LlamaState(
            input_ids=llama.input_ids.copy(),
            scores=scores[-1:].copy(),
            n_tokens=llama.n_tokens,
            llama_state=ctypes.string_at(buffer, written),
            llama_state_size=written,
            seed=llama._seed,
        )
        state.rows = int(scores.shape[0])  # type: ignore[attr-defined]  # what load_state fills
        return state

    llama.save_state = save_state


def replies_first(app: Any, llama_app: Any, proxy: Any, settings: Any) -> Contexts:
    """Give background work a context of its own and have it yield to replies (see ``scheduling``).

    The second ``Llama`` maps the same file, so it adds its context (about
    110 MB at 4k tokens for the bundled 1.5B model), not a second copy of the weights,
    and a prompt cache of its own (:data:`BACKGROUND_CACHE_BYTES`).
    """
    from agent.models.local.scheduling import FIGURES_PATH, Contexts, RepliesFirst, Scheduler

    background = proxy.load_llama_from_model_settings(settings)
    background.set_cache(compact_prompt_cache(BACKGROUND_CACHE_BYTES))
    lean_save_state(background)
    scheduler = Scheduler()
    contexts = Contexts(proxy, proxy(), background, scheduler)
    # The completion routes take the model through this function, by its module's name; the
    # routes that only tokenize keep llama-cpp-python's own lock, so no reply waits on them.
    llama_app.get_llama_proxy = contexts.held
    llama_app._llama_proxy = contexts
    app.add_middleware(RepliesFirst, scheduler=scheduler)

    async def figures() -> dict[str, Any]:
        return scheduler.figures()

    app.add_api_route(FIGURES_PATH, figures, methods=["GET"])
    return contexts


def serve(host: str, port: int, model_path: Path, n_ctx: int, n_threads: int) -> None:
    """Load the model and serve the OpenAI-compatible API until stopped."""
    import uvicorn
    from llama_cpp.server import app as llama_app
    from llama_cpp.server.settings import ServerSettings

    served = describe_model(model_path, read_metadata(model_path), n_ctx)
    if served.chat_format == GEMMA:
        register_gemma_format()
    app = llama_app.create_app(
        # A new request must not cut off a reply still streaming to another client.
        server_settings=ServerSettings(host=host, port=port, interrupt_requests=False),
        model_settings=[model_settings(model_path, served, n_threads)],
    )
    proxy: Any = llama_app._llama_proxy  # loaded by create_app
    llama = proxy()
    llama.set_cache(compact_prompt_cache())
    lean_save_state(llama)
    replies_first(app, llama_app, proxy, model_settings(model_path, served, n_threads))
    served = measure_chat_format(llama, served)  # after: it computes on the compute thread

    async def info() -> dict[str, Any]:
        return asdict(served)

    app.add_api_route(INFO_PATH, info, methods=["GET"])
    print(  # noqa: T201 - the launcher's log shows what is served
        f"Serving {served.name} ({served.chat_format}, {served.n_ctx} tokens of context)",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve the model file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True, help="the GGUF file to serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n-ctx", type=int, default=settings.MODEL_CONTEXT.get())
    parser.add_argument("--n-threads", type=int, default=DEFAULT_N_THREADS)
    parser.add_argument("--parent-pid", type=int, help="exit when this process exits")
    args = parser.parse_args(argv)
    if args.parent_pid:
        _die_with_parent(args.parent_pid)
    model_path = check_model_file(args.model, "--model")
    serve(args.host, args.port, model_path, args.n_ctx, args.n_threads)
