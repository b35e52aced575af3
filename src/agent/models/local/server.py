"""The embedded model server: llama-cpp-python's OpenAI-compatible app.

Run as ``python -m agent.models.local --port N``; the launcher does this for you.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import sys
from pathlib import Path
from typing import Any

from agent.models.local.transcript import (
    CHAT_FORMAT_NAME,
    STOP_SEQUENCES,
    render_transcript,
    strip_reply_start,
)
from agent.models.local.weights import ensure_weights

MODEL_ALIAS = "gemma-3-270m"
"""The name the server answers to (any requested model name is served by it)."""

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to stop this process when the LangGraph server that started it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the launcher still stops us on shutdown
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        sys.exit(0)


def register_chat_format() -> None:
    """Register the transcript format, with the reply's leading space removed."""
    from llama_cpp import llama_chat_format

    def transcript_format(
        *, messages: list[Any], **_: Any
    ) -> llama_chat_format.ChatFormatterResponse:
        return llama_chat_format.ChatFormatterResponse(
            prompt=render_transcript(messages), stop=list(STOP_SEQUENCES)
        )

    complete: Any = llama_chat_format.chat_formatter_to_chat_completion_handler(transcript_format)

    def complete_without_leading_space(*args: Any, **kwargs: Any) -> Any:
        result = complete(*args, **kwargs)
        if kwargs.get("stream"):
            return strip_reply_start(result)
        for choice in result["choices"]:
            choice["message"]["content"] = (choice["message"]["content"] or "").lstrip()
        return result

    registry: Any = llama_chat_format.LlamaChatCompletionHandlerRegistry()  # type: ignore[no-untyped-call]
    registry.register_chat_completion_handler(
        CHAT_FORMAT_NAME, complete_without_leading_space, overwrite=True
    )


DEFAULT_N_CTX = 4096
"""The context window, in tokens, unless ``--n-ctx`` says otherwise."""

DEFAULT_N_THREADS = os.cpu_count() or 1
"""Threads for generation and prompt reading, unless ``--n-threads`` says otherwise."""


def model_settings(
    model_path: Path, n_ctx: int = DEFAULT_N_CTX, n_threads: int = DEFAULT_N_THREADS
) -> Any:
    """Return llama-cpp-python's ``ModelSettings`` the embedded server loads the model with."""
    from llama_cpp.server.settings import ModelSettings

    return ModelSettings(
        model=str(model_path),
        model_alias=MODEL_ALIAS,
        chat_format=CHAT_FORMAT_NAME,
        n_ctx=n_ctx,
        n_threads=n_threads,
        n_threads_batch=n_threads,
        verbose=False,
    )


def serve(host: str, port: int, model_path: Path, n_ctx: int, n_threads: int) -> None:
    """Load the model and serve the OpenAI-compatible API until stopped."""
    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ServerSettings

    register_chat_format()
    app = create_app(
        server_settings=ServerSettings(host=host, port=port, interrupt_requests=False),
        model_settings=[model_settings(model_path, n_ctx, n_threads)],
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, make sure the weights exist, and serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n-ctx", type=int, default=DEFAULT_N_CTX, help="context window in tokens")
    parser.add_argument("--n-threads", type=int, default=DEFAULT_N_THREADS)
    parser.add_argument("--parent-pid", type=int, help="exit when this process exits")
    args = parser.parse_args(argv)
    if args.parent_pid:
        _die_with_parent(args.parent_pid)
    serve(args.host, args.port, ensure_weights(), args.n_ctx, args.n_threads)
