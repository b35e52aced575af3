"""Small SDK helpers shared by the integration tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langgraph_sdk.client import LangGraphClient

from agent.testing.dev_server import CHATBOT_CLI
from agent.testing.scripted_model import settings as scripted
from agent.testing.turns import GRAPH_ID, SMALL_TALK, user

__all__ = [
    "GRAPH_ID",
    "SMALL_TALK",
    "chatbot",
    "contents",
    "say",
    "talk_until_a_fold",
    "until",
    "user",
]


async def say(client: LangGraphClient, thread_id: str, text: str, **extra: Any) -> dict[str, Any]:
    """Run one turn to completion and return the thread's values."""
    result = await client.runs.wait(thread_id, GRAPH_ID, input={**user(text), **extra})
    assert isinstance(result, dict), result
    assert "__error__" not in result, result
    return result


def contents(values: dict[str, Any]) -> list[str]:
    """Return the text of every message in a thread's values, in order."""
    return [str(message["content"]) for message in values["messages"]]


def chatbot(
    server_url: str | None, *args: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the ``chatbot`` CLI with piped input; ``server_url`` None lets it find the server."""
    url_option = ["--url", server_url] if server_url else []
    env = {k: v for k, v in os.environ.items() if k != "CHATBOT_URL"}
    return subprocess.run(
        [str(CHATBOT_CLI), *url_option, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


async def until(condition: Callable[[], Any], what: str) -> None:
    """Wait until ``condition()`` holds: an outcome, with a generous bound, not a timing.

    The failure names what never happened and what the scripted model was asked.
    """
    for _ in range(600):
        if await condition() if asyncio.iscoroutinefunction(condition) else condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never happened: {what}; requests so far: {scripted.purposes}")


async def talk_until_a_fold(client: LangGraphClient, thread_id: str, said: list[str]) -> None:
    """Say each of ``said`` in turn until the scripted model is asked for a summary (a fold)."""
    for text in said:
        await client.runs.wait(thread_id, GRAPH_ID, input=user(text))
        if "summary" in scripted.purposes:
            return
    raise AssertionError(f"no fold after {len(said)} turns: the thread never outgrew its budget")


async def prompt_of_turn(
    client: LangGraphClient, thread_id: str, text: str
) -> list[dict[str, Any]]:
    """Run one turn; return the messages its reply's model call was given (its events)."""
    prompt: list[dict[str, Any]] = []
    async for part in client.runs.stream(
        thread_id, GRAPH_ID, input=user(text), stream_mode="events"
    ):
        event = part.data if isinstance(part.data, dict) else {}
        if event.get("event") == "on_chat_model_start" and not prompt:
            given = event["data"]["input"]["messages"]
            prompt = given[0] if given and isinstance(given[0], list) else given
    return prompt
