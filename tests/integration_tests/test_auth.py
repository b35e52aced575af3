"""Auth on: two users and an admin against a real server, every endpoint, one table.

One ``langgraph dev`` serves the module with ``CHATBOT_AUTH_SECRET`` set.
Alice owns a thread with one finished run and a cron; the table says, for
every endpoint, what each actor gets. A new endpoint is one line.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent.models.local.launcher import free_port
from agent.server.tokens import create_token
from agent.testing.dev_server import CHATBOT_CLI, DevServer, server_environment, write_config

from . import test_conversation as conversation
from .helpers import GRAPH_ID, user

pytestmark = pytest.mark.integration

SECRET = "integration-test-secret-that-is-long-enough"

ACTORS = ("alice", "bob", "admin", "anonymous", "forged", "expired", "studio")
"""Columns of the table: the owner, another user, an admin, three bad callers, Studio."""


def actor_headers(actor: str) -> dict[str, str]:
    """Return the headers one actor sends."""
    tokens = {
        "alice": create_token("alice", SECRET),
        "bob": create_token("bob", SECRET),
        "admin": create_token("root", SECRET, admin=True),
        "forged": create_token("alice", "not-the-server-secret-not-the-server-secret"),
        "expired": create_token("alice", SECRET, expires_in=60, now=time.time() - 3600),
    }
    if actor in tokens:
        return {"Authorization": f"Bearer {tokens[actor]}"}
    if actor == "studio":  # what LangGraph Studio sends to `langgraph dev`
        return {"x-auth-scheme": "langsmith"}
    return {}


@dataclass
class Fixtures:
    """Alice's resources that the table's paths name."""

    http: httpx.Client
    thread: str
    run: str
    cron: str
    assistant: str
    makers: dict[str, Callable[[], dict[str, str]]] = field(default_factory=dict)


RUN = {"assistant_id": GRAPH_ID, "input": user("Hi")}

# endpoint: (method, path, body, {actor: expected status})
# Paths may name {thread} {run} {cron} {assistant} (shared, made once) or, for
# requests that change or consume something, {fresh_thread} {live_run}
# {finished_run} {fresh_cron} {fresh_assistant} (made anew for each actor).
# Status 404 on a streaming endpoint also accepts the SSE "404" error event
# the server sends after its 200 header.
OWNER_ONLY = {"alice": 200, "bob": 404, "admin": 404, "studio": 404}
ANY_USER = {"alice": 200, "bob": 200, "admin": 200, "studio": 200}
ADMIN_ONLY = {"alice": 403, "bob": 403, "admin": 200, "studio": 403}
ALICES_STORE = {"alice": 200, "bob": 403, "admin": 403, "studio": 403}

TABLE: dict[str, tuple[str, str, Any, dict[str, int | None]]] = {
    "threads.create": ("POST", "/threads", {}, ANY_USER),
    "threads.read": ("GET", "/threads/{thread}", None, OWNER_ONLY),
    "threads.search": ("POST", "/threads/search", {}, ANY_USER),
    "threads.update": ("PATCH", "/threads/{thread}", {"metadata": {"tag": "t"}}, OWNER_ONLY),
    "threads.delete": ("DELETE", "/threads/{fresh_thread}", None, {**OWNER_ONLY, "alice": 204}),
    "threads.state": ("GET", "/threads/{thread}/state", None, OWNER_ONLY),
    "threads.update_state": (
        "POST",
        "/threads/{thread}/state",
        {"values": {"language": "English"}},
        OWNER_ONLY,
    ),
    "threads.history": ("POST", "/threads/{thread}/history", {"limit": 5}, OWNER_ONLY),
    "threads.history (GET)": ("GET", "/threads/{thread}/history", None, OWNER_ONLY),
    # langgraph-api answers 409 to a copy of a thread it cannot find: the same
    # answer as for a thread that does not exist, so nothing leaks.
    "threads.copy": (
        "POST",
        "/threads/{thread}/copy",
        None,
        {"alice": 200, "bob": 409, "admin": 409, "studio": 409},
    ),
    "threads.copy (missing thread)": (
        "POST",
        "/threads/00000000-0000-0000-0000-000000000000/copy",
        None,
        {"alice": 409},
    ),
    "runs.create": ("POST", "/threads/{fresh_thread}/runs", RUN, OWNER_ONLY),
    "runs.stream": ("POST", "/threads/{fresh_thread}/runs/stream", RUN, OWNER_ONLY),
    "runs.wait": ("POST", "/threads/{fresh_thread}/runs/wait", RUN, OWNER_ONLY),
    "runs.list": ("GET", "/threads/{thread}/runs", None, OWNER_ONLY),
    "runs.read": ("GET", "/threads/{thread}/runs/{run}", None, OWNER_ONLY),
    "runs.join": ("GET", "/threads/{thread}/runs/{run}/join", None, OWNER_ONLY),
    "runs.join_stream": ("GET", "/threads/{thread}/runs/{run}/stream", None, OWNER_ONLY),
    "runs.cancel": ("POST", "/threads/{live_run}/cancel", None, {**OWNER_ONLY, "alice": 202}),
    # Alice's own delete is left out: the project's checkpointer lacks
    # adelete_for_runs, so langgraph-api answers 500 to it (not an auth matter).
    "runs.delete": ("DELETE", "/threads/{thread}/runs/{run}", None, {**OWNER_ONLY, "alice": None}),
    "assistants.read": ("GET", "/assistants/{assistant}", None, ANY_USER),
    "assistants.search": ("POST", "/assistants/search", {"graph_id": GRAPH_ID}, ANY_USER),
    "assistants.graph": ("GET", "/assistants/{assistant}/graph", None, ANY_USER),
    "assistants.schemas": ("GET", "/assistants/{assistant}/schemas", None, ANY_USER),
    "assistants.create": ("POST", "/assistants", {"graph_id": GRAPH_ID}, ADMIN_ONLY),
    "assistants.update": ("PATCH", "/assistants/{assistant}", {"metadata": {"v": 1}}, ADMIN_ONLY),
    "assistants.delete": (
        "DELETE",
        "/assistants/{fresh_assistant}",
        None,
        {**ADMIN_ONLY, "admin": 204},
    ),
    "store.put": (
        "PUT",
        "/store/items",
        {"namespace": ["alice", "notes"], "key": "k", "value": {"v": 1}},
        {**ALICES_STORE, "alice": 204},
    ),
    "store.get": ("GET", "/store/items?namespace=alice.notes&key=k", None, ALICES_STORE),
    "store.search": ("POST", "/store/items/search", {"namespace_prefix": ["alice"]}, ALICES_STORE),
    "store.list_namespaces": ("POST", "/store/namespaces", {"prefix": ["alice"]}, ALICES_STORE),
    "store.delete": (
        "DELETE",
        "/store/items",
        {"namespace": ["alice", "notes"], "key": "other"},
        {**ALICES_STORE, "alice": 204},
    ),
    # The chatbot's memory of a user (agent.memory) lives under [user, "memories"]:
    # only that user reads, lists, changes or deletes it (the CLI and the page use these).
    "store.put (memory)": (
        "PUT",
        "/store/items",
        {
            "namespace": ["alice", "memories"],
            "key": "likes",
            "value": {"kind": "likes", "text": "tea"},
        },
        {**ALICES_STORE, "alice": 204},
    ),
    "store.get (memory)": (
        "GET",
        "/store/items?namespace=alice.memories&key=name",
        None,
        ALICES_STORE,
    ),
    "store.search (memory)": (
        "POST",
        "/store/items/search",
        {"namespace_prefix": ["alice", "memories"]},
        ALICES_STORE,
    ),
    "store.list_namespaces (memory)": (
        "POST",
        "/store/namespaces",
        {"prefix": ["alice", "memories"]},
        ALICES_STORE,
    ),
    "store.delete (memory)": (
        "DELETE",
        "/store/items",
        {"namespace": ["alice", "memories"], "key": "plans"},
        {**ALICES_STORE, "alice": 204},
    ),
    "crons.create": (
        "POST",
        "/threads/{fresh_thread}/runs/crons",
        {"assistant_id": GRAPH_ID, "schedule": "0 0 1 1 *"},
        OWNER_ONLY,
    ),
    "crons.search": ("POST", "/runs/crons/search", {}, ANY_USER),
    "crons.update": ("PATCH", "/runs/crons/{cron}", {"schedule": "0 0 1 2 *"}, OWNER_ONLY),
    "crons.delete": ("DELETE", "/runs/crons/{fresh_cron}", None, {**OWNER_ONLY, "alice": 204}),
}


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """One server with authentication on, for the whole module."""
    workdir = tmp_path_factory.mktemp("auth-server")
    write_config(workdir)
    server = DevServer(
        workdir=workdir,
        port=free_port(),
        env=server_environment(CHATBOT_AUTH_SECRET=SECRET),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def alice(auth_server: DevServer) -> Iterator[Fixtures]:
    """Alice's thread with one finished run, her cron, and an admin-made assistant."""
    headers = actor_headers("alice")
    admin = actor_headers("admin")
    with httpx.Client(base_url=auth_server.url, timeout=120) as http:

        def post(path: str, body: Any, as_: dict[str, str] = headers) -> Any:
            response = http.post(path, json=body, headers=as_)
            assert response.status_code == 200, response.text
            return response.json()

        def fresh_thread() -> str:
            return str(post("/threads", {})["thread_id"])

        thread = fresh_thread()
        post(f"/threads/{thread}/runs/wait", RUN)
        item = {"namespace": ["alice", "notes"], "key": "k", "value": {"v": 1}}
        assert http.put("/store/items", json=item, headers=headers).status_code == 204
        fact = {"kind": "name", "text": "Alice"}
        remembered = {"namespace": ["alice", "memories"], "key": "name", "value": fact}
        assert http.put("/store/items", json=remembered, headers=headers).status_code == 204
        runs = http.get(f"/threads/{thread}/runs", headers=headers).json()
        cron_body = {"assistant_id": GRAPH_ID, "schedule": "0 0 1 1 *"}

        def live_run() -> str:
            scratch = fresh_thread()
            return f"{scratch}/runs/{post(f'/threads/{scratch}/runs', RUN)['run_id']}"

        def fresh_cron() -> str:
            return str(post(f"/threads/{fresh_thread()}/runs/crons", cron_body)["cron_id"])

        def fresh_assistant() -> str:
            return str(post("/assistants", {"graph_id": GRAPH_ID}, admin)["assistant_id"])

        yield Fixtures(
            http=http,
            thread=thread,
            run=runs[0]["run_id"],
            cron=fresh_cron(),
            assistant=fresh_assistant(),
            makers={
                "fresh_thread": lambda: {"fresh_thread": fresh_thread()},
                "live_run": lambda: {"live_run": live_run()},
                "fresh_cron": lambda: {"fresh_cron": fresh_cron()},
                "fresh_assistant": lambda: {"fresh_assistant": fresh_assistant()},
            },
        )


@pytest.fixture
async def alice_sdk(auth_server: DevServer) -> AsyncIterator[LangGraphClient]:
    """An SDK client that sends Alice's token."""
    sdk = get_client(url=auth_server.url, api_key=None, headers=actor_headers("alice"))
    try:
        yield sdk
    finally:
        await sdk.http.client.aclose()


def observed_status(response: httpx.Response) -> int:
    """Return the status, reading a 404 out of an SSE error event sent after a 200 header."""
    if response.status_code == 200 and response.headers.get("content-type", "").startswith(
        "text/event-stream"
    ):
        first = response.text.strip().splitlines()[:2]
        if first and first[0] == "event: error" and '"404' in "".join(first[1:]):
            return 404
    return response.status_code


@pytest.mark.parametrize("endpoint", list(TABLE))
def test_endpoint_answers_each_actor_as_the_table_says(alice: Fixtures, endpoint: str) -> None:
    method, path, body, expected_by_actor = TABLE[endpoint]
    expected = {"anonymous": 401, "forged": 401, "expired": 401, **expected_by_actor}
    seen: dict[str, int] = {}
    for actor in ACTORS:
        want = expected.get(actor)
        if want is None:
            continue
        names = {"thread": alice.thread, "run": alice.run, "cron": alice.cron}
        names["assistant"] = alice.assistant
        for name, make in alice.makers.items():
            if "{" + name + "}" in path:
                names.update(make())
        response = alice.http.request(
            method,
            path.format(**names),
            content=None if body is None else json.dumps(body),
            headers={**actor_headers(actor), "Content-Type": "application/json"},
        )
        seen[actor] = observed_status(response)
        if seen[actor] == 401:
            assert "chatbot token create" in response.json()["detail"], response.text
    assert seen == {actor: status for actor, status in expected.items() if status is not None}


def test_401_says_what_was_wrong(alice: Fixtures) -> None:
    details = {
        actor: alice.http.post("/threads/search", json={}, headers=actor_headers(actor)).json()[
            "detail"
        ]
        for actor in ("anonymous", "forged", "expired")
    }
    assert "no token was sent" in details["anonymous"]
    assert "signature" in details["forged"]
    assert "expired" in details["expired"]


def test_searches_list_only_the_callers_own(alice: Fixtures) -> None:
    def thread_ids(actor: str, body: dict[str, Any]) -> set[str]:
        found = alice.http.post("/threads/search", json=body, headers=actor_headers(actor))
        assert found.status_code == 200, found.text
        return {item["thread_id"] for item in found.json()}

    assert alice.thread in thread_ids("alice", {"limit": 1000})
    for actor in ("bob", "admin", "studio"):
        assert alice.thread not in thread_ids(actor, {"limit": 1000})
        # Asking for Alice's metadata explicitly does not help either.
        assert alice.thread not in thread_ids(
            actor, {"metadata": {"owner": "alice"}, "limit": 1000}
        )

    def cron_ids(actor: str) -> set[str]:
        found = alice.http.post("/runs/crons/search", json={}, headers=actor_headers(actor))
        return {item["cron_id"] for item in found.json()}

    assert alice.cron in cron_ids("alice")
    assert alice.cron not in cron_ids("bob")

    store = alice.http.post(
        "/store/items/search", json={"namespace_prefix": []}, headers=actor_headers("bob")
    )
    assert store.json()["items"] == []


def test_threads_record_their_owner_who_cannot_give_them_away(alice: Fixtures) -> None:
    headers = actor_headers("alice")
    thread = alice.http.get(f"/threads/{alice.thread}", headers=headers).json()
    assert thread["metadata"]["owner"] == "alice"
    patched = alice.http.patch(
        f"/threads/{alice.thread}", json={"metadata": {"owner": "bob"}}, headers=headers
    )
    assert patched.json()["metadata"]["owner"] == "alice"
    assert (
        alice.http.get(f"/threads/{alice.thread}", headers=actor_headers("bob")).status_code == 404
    )


async def test_seed_scenario_with_auth_on(alice_sdk: LangGraphClient) -> None:
    await conversation.test_seed_scenario_remembers_within_a_thread_only(alice_sdk)


def test_cli_sends_chatbot_token(auth_server: DevServer, alice: Fixtures, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}

    def chatbot(*args: str, token: str | None) -> subprocess.CompletedProcess[str]:
        extra = {"CHATBOT_TOKEN": token} if token else {}
        return subprocess.run(
            [str(CHATBOT_CLI), "--url", auth_server.url, *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env={**env, **extra},
        )

    listed = chatbot("threads", "--limit", "1000", token=create_token("alice", SECRET))
    assert listed.returncode == 0, listed.stderr
    assert alice.thread in listed.stdout
    other = chatbot("threads", "--limit", "1000", token=create_token("bob", SECRET))
    assert other.returncode == 0, other.stderr
    assert alice.thread not in other.stdout
    refused = chatbot("threads", token=None)
    assert refused.returncode == 1
    assert "CHATBOT_TOKEN" in refused.stderr

    made = subprocess.run(
        [str(CHATBOT_CLI), "token", "create", "carol"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "CHATBOT_AUTH_SECRET": SECRET},
    )
    assert made.returncode == 0, made.stderr
    created = chatbot("threads", token=made.stdout.strip())
    assert created.returncode == 0, created.stderr
