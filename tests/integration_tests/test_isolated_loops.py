"""With ``BG_JOB_ISOLATED_LOOPS=true`` the housekeeping still runs, on the server's main loop.

The LangGraph server then runs each run on an event loop of its own, which
stands still between runs; a chore left there would wait for that loop's next
run. Against a real ``langgraph dev`` whose model is the scripted one posing
as the embedded model.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client

from agent import LOCAL_USER
from agent.models.local.launcher import free_port
from agent.settings import LOCAL_MODEL_URL
from agent.testing import scripted_model
from agent.testing.dev_server import DevServer, server_environment, write_config
from agent.testing.scripted_model import settings as model
from agent.testing.turns import GRAPH_ID, user

from .helpers import until

BUDGET = 200
"""A small token budget: a thread folds every few turns."""

MAX_TURNS = 20
"""Turns sent at most until a fold is due."""


SLOW_WARM_UP_S = 1.0
"""How long the scripted model takes over a warm-up: longer than a run takes to end."""


@pytest.fixture
def isolated_loops(tmp_path: Path) -> Iterator[DevServer]:
    """A dev server that runs each run on its own loop, the scripted model as its embedded one."""
    with scripted_model.running() as url:
        write_config(tmp_path)
        server = DevServer(
            workdir=tmp_path,
            port=free_port(),
            env=server_environment(
                **{LOCAL_MODEL_URL.name: url},
                BG_JOB_ISOLATED_LOOPS="true",
                CHATBOT_MAX_HISTORY_TOKENS=str(BUDGET),
                CHATBOT_REMEMBER="true",
            ),
        )
        server.start()
        try:
            yield server
        finally:
            server.stop()


async def test_the_fold_the_last_turn_made_due_lands_while_no_run_runs(
    isolated_loops: DevServer,
) -> None:
    model.summarize_by_rule = True
    first = "Je m'appelle Odile et j'habite à Brest."
    said = [first] + [f"Petite remarque numéro {n} sur la météo." for n in range(1, MAX_TURNS)]
    namespace = (LOCAL_USER, "summaries")
    async with get_client(url=isolated_loops.url, api_key=None) as client:
        thread = (await client.threads.create())["thread_id"]

        async def folded() -> bool:
            items = (await client.store.search_items((*namespace, thread)))["items"]
            return any(first in item["value"]["text"] for item in items)

        for text in said:
            result = await client.runs.wait(thread, GRAPH_ID, input=user(text))
            assert result["messages"][-1]["type"] == "ai", result
            if "summary" in model.purposes:
                break  # no more runs: a chore left on a run's loop would stand still
        assert "summary" in model.purposes, "the thread outgrew its budget"
        await until(folded, "the fold, done on the main loop with no run going")
    async with httpx.AsyncClient(base_url=isolated_loops.url) as http:

        async def idle() -> bool:
            health = (await http.get("/chatbot/health")).json()
            return bool(health["housekeeping"] == {"waiting": 0, "running": 0, "stopped": False})

        # The chore goes on after the fold lands (it reads the new summary's prompt ahead).
        await until(idle, "the housekeeping, done with the thread's chores")
        health = (await http.get("/chatbot/health")).json()
    assert health["ok"], health


async def test_a_chore_that_outlasts_its_run_goes_on_after_it(isolated_loops: DevServer) -> None:
    model.purpose_delay_s["warm-up"] = SLOW_WARM_UP_S  # answered after the run has ended
    async with get_client(url=isolated_loops.url, api_key=None) as client:
        thread = (await client.threads.create())["thread_id"]
        await client.runs.wait(thread, GRAPH_ID, input=user("Je m'appelle Odile."))

        async def extraction_sent() -> bool:
            return "memory" in model.purposes

        # The warm-up's answer comes when no run is going; the memory chore follows it.
        await until(extraction_sent, "the memory extraction after the slow warm-up")
    assert model.purposes == ["reply", "warm-up", "memory"]
