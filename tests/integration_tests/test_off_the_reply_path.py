"""No reply waits for the bot's housekeeping: folds and memory run after the reply.

Against a real ``langgraph dev`` whose model is the scripted one posing as the
embedded model (one request at a time, so background requests give way to
replies). The scripted server records the purpose of every request (a reply,
or a background ``summary``, ``memory`` extraction or ``warm-up``), and a test
can hold every request of one purpose: were a reply to wait for one, its run
would never end.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import convert_to_messages
from langgraph_sdk import get_client

from agent import LOCAL_USER
from agent.models.local.launcher import free_port
from agent.settings import LOCAL_MODEL_URL
from agent.testing import scripted_model
from agent.testing.dev_server import DevServer, server_environment, write_config
from agent.testing.scripted_model import settings as model
from agent.testing.turns import GRAPH_ID, user

from .helpers import talk_until_a_fold, until

BUDGET = 200
"""A small token budget: a thread folds every few turns."""

HELD_S = 3600.0
"""How long a held request waits: longer than any test, so it ends only when given up."""


@pytest.fixture
def scripted() -> Iterator[str]:
    with scripted_model.running() as url:
        yield url


@pytest.fixture
def embedded(scripted: str, tmp_path: Path) -> Iterator[Callable[..., DevServer]]:
    """Start dev servers that take the scripted model for their embedded one; stop them after."""
    started: list[DevServer] = []

    def start(**env: str) -> DevServer:
        write_config(tmp_path)
        server = DevServer(
            workdir=tmp_path,
            port=free_port(),
            env=server_environment(**{LOCAL_MODEL_URL.name: scripted}, **env),
        )
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def reply_prompts() -> list[list[Any]]:
    return [
        convert_to_messages(body["messages"])
        for body, purpose in zip(model.bodies, model.purposes, strict=True)
        if purpose == "reply"
    ]


async def test_every_turn_is_answered_while_its_fold_is_held(embedded) -> None:
    server = embedded(CHATBOT_MAX_HISTORY_TOKENS=str(BUDGET))
    model.summarize_by_rule = True
    model.purpose_delay_s["summary"] = HELD_S
    said = ["Je m'appelle Aurèle et j'habite à Rodez."] + [
        f"Petite remarque numéro {n} sur la météo du jour." for n in range(1, 16)
    ]
    async with get_client(url=server.url, api_key=None) as client:
        thread = (await client.threads.create())["thread_id"]
        for text in said:
            result = await client.runs.wait(thread, GRAPH_ID, input=user(text))
            assert result["messages"][-1]["type"] == "ai", result
    assert "summary" in model.purposes, "the thread outgrew its budget and a fold began"
    assert "summary" not in model.answered, "no fold finished, yet every turn was answered"
    prompts = reply_prompts()
    assert len(prompts) == len(said)
    for number, prompt in enumerate(prompts, start=1):
        assert prompt[-1].type == "human" and prompt[-1].content.startswith(said[number - 1])
    # The last reply was written from what fits: the newest turns, not the whole thread.
    assert len(prompts[-1]) - 1 < 2 * len(said) - 1
    assert all(said[0] not in str(message.content) for message in prompts[-1])


async def test_a_restart_between_the_reply_and_the_fold_still_folds(embedded) -> None:
    server = embedded(CHATBOT_MAX_HISTORY_TOKENS=str(BUDGET))
    model.summarize_by_rule = True
    model.purpose_delay_s["summary"] = HELD_S  # the fold cannot finish before the kill
    first = "Ich heiße Jorinde und wohne in Husum."
    said = [first] + [f"Kleine Bemerkung Nummer {n} zum Wetter heute." for n in range(1, 20)]
    namespace = (LOCAL_USER, "summaries")
    async with get_client(url=server.url, api_key=None) as client:
        thread = (await client.threads.create())["thread_id"]
        await talk_until_a_fold(client, thread, said)
        assert (await client.store.search_items((*namespace, thread)))["items"] == []
    server.stop(signal.SIGKILL)

    model.purpose_delay_s.clear()
    server.start()
    async with get_client(url=server.url, api_key=None) as client:
        await client.runs.wait(thread, GRAPH_ID, input=user("Und jetzt?"))

        async def folded() -> bool:
            items = (await client.store.search_items((*namespace, thread)))["items"]
            return any(first in item["value"]["text"] for item in items)

        await until(folded, "the fold lost to the kill, done after the next turn")
        await client.runs.wait(thread, GRAPH_ID, input=user("Wie heiße ich?"))
        values = (await client.threads.get_state(thread))["values"]
    assert first in values["summary"], "the next reply used the summary"
    assert first in str(reply_prompts()[-1][0].content)


async def test_runs_return_and_the_next_reply_starts_while_an_extraction_is_held(
    embedded,
) -> None:
    server = embedded(CHATBOT_REMEMBER="true")
    model.purpose_delay_s["memory"] = HELD_S
    async with get_client(url=server.url, api_key=None) as client:
        thread = (await client.threads.create())["thread_id"]
        first = await client.runs.wait(thread, GRAPH_ID, input=user("저는 서윤이고 춘천에 살아요."))
        assert first["messages"][-1]["type"] == "ai"
        await until(lambda: "memory" in model.purposes, "the extraction of the statement")
        assert "memory" not in model.answered
        second = await client.runs.wait(thread, GRAPH_ID, input=user("오늘 날씨가 좋네요."))
        assert second["messages"][-1]["type"] == "ai"
    assert "memory" not in model.answered, "both replies came while the extraction was held"
    assert model.answered.count("reply") == 2
