"""Answers from what the bot knows, with the embedded model, in Korean and French.

Through a real ``langgraph dev`` on the embedded default model, with memory
on, a user introduces themselves in one conversation and asks in a new one.
Each run is streamed with ``stream_mode="events"``, which shows the messages
the model was given (``on_chat_model_start``), so the tests assert what the
design guarantees: the user's facts reach the prompt as a list about the
user, bounded by what is not known; the question is the prompt's last word
(no note after it that reads like a request to translate it); the reply is in
the user's script and is not the question echoed. Whether the model names the
fact or admits not knowing is a rate, measured by ``make bench-quality``.

Names and places here are in no prompt, example or other test.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent import LOCAL_USER
from agent.conversation.prompts import MEMORY_BOUNDS, MEMORY_HEADING, NOTHING_REMEMBERED
from agent.models.local.launcher import free_port
from agent.testing.dev_server import DevServer, server_environment, write_config
from agent.testing.languages import folded, language_of

from .helpers import prompt_of_turn

LEARNT_WITHIN_S = 180.0
"""How long the background extraction may take to learn an introduction (2 cores, CI)."""

CASES = [
    pytest.param(
        "Korean",
        "안녕하세요! 저는 다온이에요. 목포에 살아요.",
        "다온",
        "제 이름이 뭐예요?",
        "제 할머니 성함이 뭐예요?",
        id="korean",
    ),
    pytest.param(
        "French",
        "Bonjour ! Je m'appelle Lisandre et j'habite à Figeac.",
        "Lisandre",
        "Comment je m'appelle ?",
        "Comment s'appelle mon grand-père ?",
        id="french",
    ),
]


@pytest.fixture
def server(tmp_path: Path) -> Any:
    """A server on the embedded default model with memory on; stopped after the test."""
    write_config(tmp_path)
    running = DevServer(
        workdir=tmp_path, port=free_port(), env=server_environment(CHATBOT_REMEMBER="true")
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()


async def turn_with_prompt(
    client: LangGraphClient, thread_id: str, text: str
) -> tuple[list[dict[str, Any]], str]:
    """Run one turn; return the messages the reply's model call was given, and the reply."""
    prompt = await prompt_of_turn(client, thread_id, text)
    state: Any = await client.threads.get_state(thread_id)
    reply = str(state["values"]["messages"][-1]["content"])
    return prompt, reply


async def learnt(client: LangGraphClient, word: str) -> None:
    """Wait until the local user's memory holds ``word`` (background extraction)."""
    deadline = time.monotonic() + LEARNT_WITHIN_S
    found: list[str] = []
    while time.monotonic() < deadline:
        items = (await client.store.search_items((LOCAL_USER, "memories"), limit=100))["items"]
        found = [str(item["value"].get("text", "")) for item in items]
        if any(word in text for text in found):
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"memory holds {found}, expected {word!r}")


def system_text(prompt: list[dict[str, Any]]) -> str:
    return str(prompt[0]["content"]) if prompt else ""


def assert_answered_not_echoed(
    prompt: list[dict[str, Any]], reply: str, question: str, language: str
) -> None:
    assert str(prompt[-1]["content"]) == question, "nothing follows the user's question"
    assert language_of(reply) == language, reply
    assert folded(question) not in folded(reply), f"the question came back: {reply!r}"


@pytest.mark.parametrize(("language", "intro", "name", "asked", "never_told"), CASES)
async def test_a_new_conversation_is_answered_from_memory_in_the_users_language(
    server: DevServer, language: str, intro: str, name: str, asked: str, never_told: str
) -> None:
    client = get_client(url=server.url, api_key=None)
    first = (await client.threads.create())["thread_id"]
    prompt, _reply = await turn_with_prompt(client, first, intro)
    assert NOTHING_REMEMBERED in system_text(prompt), "a new user: nothing is known, and said"
    await learnt(client, name)

    thread = (await client.threads.create())["thread_id"]
    prompt, reply = await turn_with_prompt(client, thread, asked)
    system = system_text(prompt)
    listed = system.split(f"{MEMORY_HEADING}\n", 1)[-1].splitlines()
    assert any(line.startswith("- name: ") and name in line for line in listed), system
    assert MEMORY_BOUNDS in system and NOTHING_REMEMBERED not in system
    assert_answered_not_echoed(prompt, reply, asked, language)

    prompt, reply = await turn_with_prompt(client, thread, never_told)
    assert MEMORY_BOUNDS in system_text(prompt)
    assert_answered_not_echoed(prompt, reply, never_told, language)
