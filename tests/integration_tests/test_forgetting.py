"""What a user deletes stays deleted, through a real server and on PostgreSQL (issue 26).

The first test runs a real ``langgraph dev`` on the scripted model: the user
states a fact and deletes the conversation at once, while its housekeeping
is queued or reading the message. Once the extraction was answered and the
server's housekeeping is idle (``GET /chatbot/health``), no store item of the
user holds the fact or names the thread.

The others stand two replicas against one PostgreSQL store (each its own
event loop and connection pool, ``bench/fact_order.py``): one thread's chores,
the older one held until the newer one finished, keep the facts in the order
the user stated them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph.store.base import BaseStore
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent import LOCAL_USER
from agent.memory import learning
from agent.memory.deletions import fact_marker, value_marker
from agent.server.thread_deletion import forget_thread
from agent.testing import scripted_model
from agent.testing.dev_server import DevServer, dev_server_with_scripted_model
from bench import fact_order

from .helpers import say

STATED = "Je m'appelle Hélène et je suis allergique aux arachides."
NOTED = "name: Hélène\nhealth: allergique aux arachides"
POLLS = 600
"""Store reads at most while waiting for the server's housekeeping to settle (a bound, not a time)."""


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DevServer]:
    env = {"CHATBOT_REMEMBER": "true"}
    if request.param == "postgres":
        env["POSTGRES_URI"] = request.getfixturevalue("postgres_uri")
    with dev_server_with_scripted_model(tmp_path, **env) as (running, _url):
        yield running


async def settled(server: DevServer) -> None:
    """Wait until the extraction was answered and the server has no chore waiting or running."""
    async with httpx.AsyncClient(base_url=server.url) as http:
        for _ in range(POLLS):
            counts = (await http.get("/chatbot/health")).json()["housekeeping"]
            answered = "memory" in scripted_model.settings.answered
            if answered and counts["waiting"] == 0 and counts["running"] == 0:
                return
            await asyncio.sleep(0.1)
    raise AssertionError(f"housekeeping never settled: {scripted_model.settings.purposes}")


async def every_item(client: LangGraphClient, user: str) -> list[dict[str, Any]]:
    """Every store item under ``user``'s namespaces."""
    spaces = await client.store.list_namespaces(prefix=[user], limit=1000)
    items: list[dict[str, Any]] = []
    for space in spaces["namespaces"]:
        items += (await client.store.search_items(space, limit=1000))["items"]
    return items


async def test_a_conversation_deleted_at_once_leaves_nothing_in_the_store(
    server: DevServer,
) -> None:
    scripted_model.settings.replies.append("Enchanté, Hélène !")
    scripted_model.settings.background_replies["memory"] = [NOTED]
    async with get_client(url=server.url, api_key=None) as client:
        kept = (await client.threads.create())["thread_id"]
        thread = (await client.threads.create())["thread_id"]
        await say(client, thread, STATED)
        await client.threads.delete(thread)
        await settled(server)
        items = await every_item(client, LOCAL_USER)
    for item in items:
        text = json.dumps(item, ensure_ascii=False)
        assert thread not in text, f"an item names the deleted thread: {text}"
        assert "Hélène" not in text and "arachides" not in text, f"an item keeps the fact: {text}"
    assert kept  # a thread of the same user, untouched by the deletion


async def test_a_fact_forgotten_through_the_store_routes_leaves_a_marker_and_no_copy(
    server: DevServer,
) -> None:
    scripted_model.settings.replies.append("Enchanté, Hélène !")
    scripted_model.settings.background_replies["memory"] = [NOTED]
    async with get_client(url=server.url, api_key=None) as client:
        thread = (await client.threads.create())["thread_id"]
        await say(client, thread, STATED)
        await settled(server)
        memories = [LOCAL_USER, "memories"]
        facts = (await client.store.search_items(memories))["items"]
        health = next(item for item in facts if item["value"]["topic"] == "health")
        await client.store.delete_item(memories, health["key"])  # as the page's Forget does
        items = await every_item(client, LOCAL_USER)
        markers = (await client.store.search_items([LOCAL_USER, "forgotten"]))["items"]
    assert {marker["key"] for marker in markers} == {
        fact_marker("health", health["value"]["text"]),
        value_marker(health["value"]["text"]),
    }, "the auth handler marked the fact forgotten, and its value for earlier conversations"
    texts = [json.dumps(item, ensure_ascii=False) for item in items]
    assert not [text for text in texts if "arachides" in text], texts
    assert any("Hélène" in text for text in texts), "the other fact stays"


def test_two_replicas_keep_the_facts_in_the_order_stated(postgres_uri: str) -> None:
    counts = asyncio.run(fact_order.measure(postgres_uri, statements=40, seed=1))
    assert counts["rounds"] == 20 and counts["older_last"] > 0
    assert counts["in_order"] == counts["rounds"], counts
    assert counts["ordered"] == counts["rounds"], counts
    assert counts["plain"] < counts["rounds"], "plain writes let the older statement win"


def test_a_thread_deleted_on_one_replica_while_another_reads_it_leaves_nothing(
    postgres_uri: str,
) -> None:
    """One replica's chore reads the statement; the delete request reaches the other one."""
    worker, other = fact_order.Replica(postgres_uri), fact_order.Replica(postgres_uri)
    held = fact_order.Extraction(held=fact_order.statement(1))
    try:
        chore = worker.call(
            learning.learn(worker.store, "u1", "doomed", fact_order.branch(1), held)
        )
        held.reached.wait()  # statement 0 is saved, statement 1 is being read
        other.call(forget_thread(other.store, "u1", "doomed")).result()
        held.release.set()
        chore.result()
        left = other.call(everything(other.store)).result()
    finally:
        worker.close()
        other.close()
    assert left and all("doomed" not in item and "Ville" not in item for item in left), left


async def everything(store: BaseStore) -> list[str]:
    """Every item of user ``u1``, as text."""
    spaces = await store.alist_namespaces(prefix=("u1",), limit=1000)
    return [
        json.dumps([item.namespace, item.key, item.value], ensure_ascii=False)
        for space in spaces
        for item in await store.asearch(space, limit=1000)
    ]


async def test_the_ordered_write_is_one_statement_on_postgres(postgres_uri: str) -> None:
    """The same checks as the SQLite unit test, on the store's PostgreSQL table."""
    from agent.memory.store import _postgres

    from ..unit_tests.test_forgetting import ordered_writes

    async with _postgres("POSTGRES_URI", postgres_uri) as store:
        await ordered_writes(store)
