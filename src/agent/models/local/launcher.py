"""Start and stop the embedded model server from inside the LangGraph server."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx

from agent.conversation.context import Context
from agent.conversation.prompt import render_system_prompt
from agent.conversation.prompts import DEFAULT_LANGUAGE
from agent.models.local.tokenizer import model_tokenizer
from agent.models.local.weights import WeightsError, model_file

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 300.0
"""Loading a model file takes about a second here; a big user file may take longer."""

PROGRESS_STEP = 0.1
"""Share of the bundled model file between two progress lines while it is assembled."""


class EmbeddedModelError(RuntimeError):
    """The embedded model server could not be started."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def check_installed() -> None:
    """Raise a clear error when the optional ``local`` extra is missing."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise EmbeddedModelError(
            "No OPENAI_API_KEY or OPENAI_BASE_URL is set, so the chatbot needs its embedded "
            "model, but llama-cpp-python is not installed. Install it with "
            "`pip install -e '.[local]'` (compiles llama.cpp once, about 9 minutes), "
            "or set OPENAI_API_KEY / OPENAI_BASE_URL (see .env.example)."
        )


async def _wait_until_ready(
    process: asyncio.subprocess.Process, base_url: str, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise EmbeddedModelError(
                    f"The embedded model server exited with code {process.returncode} "
                    "before it was ready; its messages are in the log above."
                )
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{base_url}/models")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise EmbeddedModelError(
        f"The embedded model server did not answer at {base_url} within {timeout:.0f} s."
    )


def _progress_logger() -> Callable[[int, int], None]:
    """Return a progress callback that logs every tenth of the file once."""
    next_share = PROGRESS_STEP

    def report(done: int, total: int) -> None:
        nonlocal next_share
        if total and done / total >= next_share:
            logger.info(
                "Assembling the embedded model file: %d%% (%d of %d MB)",
                round(100 * done / total),
                done // 1_000_000,
                total // 1_000_000,
            )
            while next_share <= done / total:
                next_share += PROGRESS_STEP

    return report


async def _model_file() -> Path:
    """Find (or assemble, once) the model file in a thread, and log how long it took."""
    started = time.monotonic()
    try:
        path = await asyncio.to_thread(model_file, _progress_logger())
    except WeightsError as error:
        raise EmbeddedModelError(str(error)) from None
    logger.info("Embedded model file ready in %.1f s: %s", time.monotonic() - started, path)
    return path


async def _warm_up(base_url: str) -> None:
    """Have the model read the start every conversation's prompt shares, once, at start-up.

    llama.cpp keeps the last prompt evaluated and reuses its longest common
    prefix, so the first real reply skips the system prompt (in the chat
    format of the model served). The token counter first learns what that
    format adds around messages, which the server measured on itself.
    """
    started = time.monotonic()
    await model_tokenizer(base_url).calibrate()
    try:
        system = render_system_prompt(Context().system_prompt, DEFAULT_LANGUAGE)
    except ValueError:  # a broken template: the first run reports it
        return
    body = {
        "messages": [
            {"role": "system", "content": system.content},
            {"role": "user", "content": "Hi!"},
        ],
        "max_tokens": 1,
        "temperature": 0,
    }
    # Marked as a warm-up: a reply that comes meanwhile stops it (it reads its own prompt).
    headers = {"X-Chatbot-Purpose": "warm-up"}  # what agent.turn.for_background sends
    try:
        async with httpx.AsyncClient(timeout=60.0) as client:
            response = await client.post(f"{base_url}/chat/completions", json=body, headers=headers)
            if response.status_code == httpx.codes.SERVICE_UNAVAILABLE:
                logger.info("Warming up the embedded model gave way to the first reply")
                return
            response.raise_for_status()
    except httpx.HTTPError as error:
        logger.warning(
            "Warming up the embedded model failed (%s); the first reply is slower", error
        )
        return
    logger.info("Embedded model warmed up in %.1f s", time.monotonic() - started)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), timeout=10)
    except TimeoutError:
        process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def embedded_model_server(
    host: str = "127.0.0.1", port: int = 0, timeout: float = STARTUP_TIMEOUT_S
) -> AsyncIterator[str]:
    """Run the embedded model server for the duration of the block.

    Yields:
        The server's OpenAI base URL (ending in ``/v1``).
    """
    check_installed()
    port = port or free_port(host)
    base_url = f"http://{host}:{port}/v1"
    # Assembled here rather than in the model server, so its time is logged apart.
    path = await _model_file()
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "agent.models.local",
        "--model",
        str(path),
        "--host",
        host,
        "--port",
        str(port),
        "--parent-pid",
        str(os.getpid()),
    )
    try:
        await _wait_until_ready(process, base_url, timeout)
        logger.info(
            "Embedded model loaded and serving at %s in %.1f s (pid %d)",
            base_url,
            time.monotonic() - started,
            process.pid,
        )
        warm_up = asyncio.create_task(_warm_up(base_url))
        try:
            yield base_url
        finally:
            warm_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await warm_up
    finally:
        await _stop(process)
