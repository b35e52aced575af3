"""The embedded model server puts replies first, with the real model.

A memory extraction being read when a reply comes pauses for it, and leaves
the conversation's prompt where the reply finds it: the next reply reads only
its new message. Ordered by what the server reports it read
(``/extras/scheduling``), never by sleeping.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from agent.models.local.launcher import free_port
from agent.models.local.scheduling import FIGURES_PATH
from agent.models.local.weights import model_file

pytest.importorskip("llama_cpp", reason="the embedded model's extra")

SYSTEM = "You are a careful assistant. Answer in one short sentence. " * 30
"""A system prompt long enough that reading it again would show (about 400 tokens)."""

EXTRACTION = "\n".join(
    f"Message {i}: I keep a notebook of the birds I saw on day {i}." for i in range(120)
)
"""A background prompt long enough to be mid-read when the reply comes (about 2,000 tokens)."""


@pytest.fixture
async def model_url() -> AsyncIterator[str]:
    """The embedded model server alone (no start-up warm-up): only this test's requests."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agent.models.local",
            "--model",
            str(model_file()),
            "--port",
            str(port),
        ]
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            while server.poll() is None:
                try:
                    if (await client.get(f"{url}/models")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
        assert server.poll() is None, "the model server exited at start"
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


async def read_so_far(client: httpx.AsyncClient, url: str) -> dict[str, int]:
    figures = (await client.get(url.removesuffix("/v1") + FIGURES_PATH)).json()
    return dict(figures["read"])


async def ask(
    client: httpx.AsyncClient,
    url: str,
    messages: list[dict[str, str]],
    purpose: str | None = None,
    first_token: asyncio.Event | None = None,
) -> str:
    """Stream a chat completion; set ``first_token`` when its first text arrives."""
    headers = {"X-Chatbot-Purpose": purpose} if purpose else {}
    body: dict[str, Any] = {
        "messages": messages,
        "max_tokens": 8,
        "temperature": 0,
        "stream": True,
    }
    text = ""
    async with client.stream(
        "POST", f"{url}/chat/completions", json=body, headers=headers
    ) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("data: {"):
                delta = json.loads(line.removeprefix("data: "))["choices"][0]["delta"]
                text += delta.get("content") or ""
                if text and first_token is not None:
                    first_token.set()
    return text


async def test_a_reply_is_not_held_by_an_extraction_nor_loses_its_prompt_to_it(
    model_url: str,
) -> None:
    conversation = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "What is 7 times 6?"},
    ]
    async with httpx.AsyncClient(timeout=120) as client:
        answer = await ask(client, model_url, conversation)
        before = await read_so_far(client, model_url)

        extraction = asyncio.create_task(
            ask(client, model_url, [{"role": "user", "content": EXTRACTION}], purpose="memory")
        )
        while (await read_so_far(client, model_url)).get("memory", 0) <= before.get("memory", 0):
            assert not extraction.done(), "the extraction ended before it was seen reading"
            await asyncio.sleep(0.02)  # poll the server's own account until it reads
        replied = asyncio.Event()
        conversation += [
            {"role": "assistant", "content": answer},
            {"role": "user", "content": "Name a planet."},
        ]
        reply = asyncio.create_task(ask(client, model_url, conversation, first_token=replied))
        await replied.wait()
        assert not extraction.done(), "the reply's first token came before the extraction ended"

        await reply
        assert await extraction, "the extraction went on after the reply and finished"
        after = await read_so_far(client, model_url)

    prompt_tokens = 400
    read_by_reply = after["reply"] - before["reply"]
    assert read_by_reply < prompt_tokens / 2, (
        f"the reply read {read_by_reply} tokens: its conversation's prompt was evicted"
    )


async def test_an_extraction_finds_its_prompt_start_again_after_a_summary(model_url: str) -> None:
    """Background work of two kinds shares one context: each keeps its prompt's start cached."""
    instructions = {"role": "system", "content": SYSTEM}
    summary = [
        {"role": "system", "content": "Summarize the conversation in one line. " * 40},
        {"role": "user", "content": "We spoke of rivers, then of bridges."},
    ]
    async with httpx.AsyncClient(timeout=300) as client:
        await ask(
            client,
            model_url,
            [instructions, {"role": "user", "content": "I keep bees."}],
            purpose="memory",
        )
        await ask(client, model_url, summary, purpose="summary")
        before = await read_so_far(client, model_url)
        await ask(
            client,
            model_url,
            [instructions, {"role": "user", "content": "I sail on Sundays."}],
            purpose="memory",
        )
        after = await read_so_far(client, model_url)

    prompt_tokens = 400
    read = after["memory"] - before["memory"]
    assert read < prompt_tokens / 2, (
        f"the extraction read {read} tokens: the summary evicted its instructions"
    )
