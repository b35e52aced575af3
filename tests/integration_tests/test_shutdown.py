"""A clean stop mid-chore: the chore is stopped first, nothing half-written, done at the next turn.

Against a real ``langgraph dev`` whose model is the scripted one posing as the
embedded model; its summarizer calls are held, so a fold is under way when
the server is asked to stop (SIGINT, as Ctrl-C or a deployment's stop).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
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
"""How long a held summarizer call waits: longer than any test, so it ends only when cut."""

MAX_TURNS = 20
"""Turns sent at most until a fold begins."""

STOPPED_LINE = "Shutting down: 1 chores stopped"
"""What the server logs when the lifespan stops the chore under way."""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DevServer]:
    with scripted_model.running() as url:
        write_config(tmp_path)
        dev = DevServer(
            workdir=tmp_path,
            port=free_port(),
            env=server_environment(
                **{LOCAL_MODEL_URL.name: url}, CHATBOT_MAX_HISTORY_TOKENS=str(BUDGET)
            ),
        )
        dev.start()
        try:
            yield dev
        finally:
            dev.stop()


async def test_a_stop_mid_fold_stops_the_chore_and_the_next_turn_folds(server: DevServer) -> None:
    model.summarize_by_rule = True
    model.purpose_delay_s["summary"] = HELD_S
    first = "Ich heiße Jorinde und wohne in Husum."
    said = [first] + [f"Kleine Bemerkung Nummer {n} zum Wetter." for n in range(1, MAX_TURNS)]
    namespace = (LOCAL_USER, "summaries")
    async with get_client(url=server.url, api_key=None) as client:
        thread = (await client.threads.create())["thread_id"]
        await talk_until_a_fold(client, thread, said)

    server.stop()  # SIGINT: the lifespan stops the chore before the store closes
    log = server.log()
    assert STOPPED_LINE in log, log[-3000:]
    assert "failed; it is tried again" not in log, "stopped, not failed"
    assert "summary" not in model.answered

    model.purpose_delay_s.clear()
    server.start()
    async with get_client(url=server.url, api_key=None) as client:
        assert (await client.store.search_items((*namespace, thread)))["items"] == [], (
            "nothing of the cut fold was saved"
        )
        await client.runs.wait(thread, GRAPH_ID, input=user("Und jetzt?"))

        async def folded() -> bool:
            items = (await client.store.search_items((*namespace, thread)))["items"]
            return any(first in item["value"]["text"] for item in items)

        await until(folded, "the fold cut by the stop, done after the next turn")
