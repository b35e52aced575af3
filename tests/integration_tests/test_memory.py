"""Memory across conversations against a real server: SQLite and PostgreSQL, restarts, users.

Most tests script the model (``agent.testing.scripted_model``): each turn that
states something about the user takes two replies, the answer and then the
extraction's ``kind: value`` lines, so what is checked is the mechanism (what
is saved, what reaches the next prompt, what survives), not a model's wit.
The recall test uses the embedded default model end to end. Names and places
here appear in no prompt of the chatbot (unit test ``test_memory_names_are_in_no_prompt``).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent.models.local.launcher import free_port
from agent.server.tokens import create_token
from agent.testing import scripted_model
from agent.testing.dev_server import (
    DevServer,
    dev_server_with_scripted_model,
    server_environment,
    write_config,
)

from .helpers import GRAPH_ID, chatbot, say, user

BACKENDS = ["sqlite", "postgres"]
DEADLINE_S = 60.0
SECRET = "memory-test-secret-that-is-long-enough-for-hs256"


def backend_env(backend: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """Environment that selects the backend (a fresh PostgreSQL database for postgres)."""
    env = {"CHATBOT_REMEMBER": "true"}
    if backend == "postgres":
        env["POSTGRES_URI"] = request.getfixturevalue("postgres_uri")
    return env


@pytest.fixture(params=BACKENDS)
def scripted(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[DevServer, str]]:
    """A server on the scripted model with memory on, on each backend."""
    env = backend_env(request.param, request)
    (tmp_path / request.param).mkdir()
    with dev_server_with_scripted_model(tmp_path / request.param, **env) as running:
        yield running


@pytest.fixture
async def client(scripted: tuple[DevServer, str]) -> AsyncIterator[LangGraphClient]:
    sdk = get_client(url=scripted[0].url, api_key=None)
    try:
        yield sdk
    finally:
        await sdk.http.client.aclose()


async def new_thread(client: LangGraphClient, **metadata: Any) -> str:
    return str((await client.threads.create(metadata=metadata or None))["thread_id"])


async def tell(client: LangGraphClient, text: str, noted: str, thread: str | None = None) -> str:
    """Say ``text`` in ``thread`` (a new one by default); the extraction answers ``noted``."""
    scripted_model.settings.replies += ["Nice to know!", noted]
    thread = thread or await new_thread(client)
    await say(client, thread, text)
    return thread


async def memory(client: LangGraphClient, user_id: str = "local") -> dict[str, str]:
    found = await client.store.search_items([user_id, "memories"], limit=100)
    return {item["key"]: item["value"]["text"] for item in found["items"]}


async def wait_for_memory(
    client: LangGraphClient, expected: dict[str, str], user_id: str = "local"
) -> None:
    """Poll the store until it holds exactly ``expected`` (generous deadline, no sleeps asserted)."""
    deadline = time.monotonic() + DEADLINE_S
    seen: dict[str, str] = {}
    while time.monotonic() < deadline:
        seen = await memory(client, user_id)
        if seen == expected:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"the memory holds {seen}, expected {expected}")


def system_prompt_of_last_request() -> str:
    return str(scripted_model.settings.last_request["messages"][0]["content"])


async def ask_in_a_new_thread(client: LangGraphClient, text: str) -> str:
    """Ask ``text`` in a new thread; return the system prompt the model was given."""
    await say(client, await new_thread(client), text)
    return system_prompt_of_last_request()


async def test_a_new_thread_uses_what_an_earlier_one_learnt(client: LangGraphClient) -> None:
    await tell(client, "Hi! I'm Zanele and I live in Windhoek.", "name: Zanele\nlocation: Windhoek")
    await wait_for_memory(client, {"name": "Zanele", "location": "Windhoek"})
    system = await ask_in_a_new_thread(client, "What's my name and where do I live?")
    assert "The user's name is Zanele." in system and "The user lives in Windhoek." in system


async def test_a_correction_replaces_the_fact(client: LangGraphClient) -> None:
    await tell(client, "I live in Windhoek.", "location: Windhoek")
    await wait_for_memory(client, {"location": "Windhoek"})
    await tell(client, "Actually I moved to Swakopmund.", "location: Swakopmund")
    await wait_for_memory(client, {"location": "Swakopmund"})
    system = await ask_in_a_new_thread(client, "Where do I live?")
    assert "Swakopmund" in system and "Windhoek" not in system


async def test_a_made_up_fact_is_not_saved(client: LangGraphClient) -> None:
    await tell(client, "I enjoy long walks.", "name: Zanele\nlikes: long walks")
    await wait_for_memory(client, {"likes": "long walks"})


async def test_a_thread_that_opts_out_saves_and_uses_nothing(client: LangGraphClient) -> None:
    await tell(client, "I live in Windhoek.", "location: Windhoek")
    await wait_for_memory(client, {"location": "Windhoek"})
    private = await new_thread(client, remember=False)
    scripted_model.settings.replies += ["Nice to know!"]
    await say(client, private, "I'm Zanele.")
    assert "Windhoek" not in system_prompt_of_last_request()
    requests = scripted_model.settings.requests
    await say(client, private, "I'm Zanele, really.")
    assert scripted_model.settings.requests == requests + 1, "no extraction request"
    assert await memory(client) == {"location": "Windhoek"}


async def test_an_edited_message_takes_its_fact_along(client: LangGraphClient) -> None:
    thread = await tell(client, "I live in Windhoek.", "location: Windhoek")
    await wait_for_memory(client, {"location": "Windhoek"})
    history = await client.threads.get_history(thread, limit=100)
    first = next(s for s in reversed(history) if s["values"].get("messages"))
    scripted_model.settings.replies += ["Nice to know!", "likes: tea"]
    await client.runs.wait(
        thread, GRAPH_ID, input=user("I like tea."), checkpoint=first["parent_checkpoint"]
    )
    await wait_for_memory(client, {"likes": "tea"})


async def test_deleting_a_thread_forgets_what_was_learnt_in_it(client: LangGraphClient) -> None:
    kept = await tell(client, "I live in Windhoek.", "location: Windhoek")
    doomed = await tell(client, "I'm Zanele.", "name: Zanele")
    await wait_for_memory(client, {"location": "Windhoek", "name": "Zanele"})
    runs = await client.runs.list(kept)
    await client.runs.delete(kept, runs[0]["run_id"])  # a run's deletion keeps the facts
    await client.threads.delete(doomed)
    await wait_for_memory(client, {"location": "Windhoek"})


async def test_cli_lists_and_forgets_one_fact_or_all(
    scripted: tuple[DevServer, str], client: LangGraphClient
) -> None:
    url = scripted[0].url
    await tell(client, "I'm Zanele, I live in Windhoek.", "name: Zanele\nlocation: Windhoek")
    await tell(client, "I like rooibos tea.", "likes: rooibos tea")
    await wait_for_memory(
        client, {"name": "Zanele", "location": "Windhoek", "likes": "rooibos tea"}
    )

    listed = chatbot(url, "memory")
    assert listed.returncode == 0, listed.stderr
    for words in ("Zanele", "Windhoek", "rooibos tea", "name", "location", "likes"):
        assert words in listed.stdout

    forgot = chatbot(url, "memory", "forget", "location")
    assert forgot.returncode == 0, forgot.stderr
    listed = chatbot(url, "memory")
    assert "Windhoek" not in listed.stdout and "Zanele" in listed.stdout
    assert await memory(client) == {"name": "Zanele", "likes": "rooibos tea"}

    missing = chatbot(url, "memory", "forget", "location")
    assert missing.returncode == 1 and "chatbot memory" in missing.stderr

    refused = chatbot(url, "memory", "forget", "--all")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    everything = chatbot(url, "memory", "forget", "--all", "--yes")
    assert everything.returncode == 0, everything.stderr
    assert "Forgot 2 fact(s)" in everything.stdout
    assert "Nothing is remembered" in chatbot(url, "memory").stdout

    system = await ask_in_a_new_thread(client, "What's my name?")
    assert "Zanele" not in system and "remember about the user" not in system


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("how", ["restart", "kill -9"])
async def test_memory_survives_restart_and_kill_9(
    backend: str, how: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    env = backend_env(backend, request)
    (tmp_path / backend).mkdir()
    with dev_server_with_scripted_model(tmp_path / backend, **env) as (server, _model):
        sdk = get_client(url=server.url, api_key=None)
        await tell(sdk, "I'm Zanele and I live in Windhoek.", "name: Zanele\nlocation: Windhoek")
        await wait_for_memory(sdk, {"name": "Zanele", "location": "Windhoek"})
        server.stop(signal.SIGKILL if how == "kill -9" else signal.SIGINT)
        server.start()
        sdk = get_client(url=server.url, api_key=None)
        assert await memory(sdk) == {"name": "Zanele", "location": "Windhoek"}
        system = await ask_in_a_new_thread(sdk, "What's my name?")
        assert "Zanele" in system and "Windhoek" in system


async def test_two_users_each_get_their_own_memory(tmp_path: Path) -> None:
    with dev_server_with_scripted_model(
        tmp_path, CHATBOT_REMEMBER="true", CHATBOT_AUTH_SECRET=SECRET
    ) as (server, _model):
        sdks = {
            name: get_client(
                url=server.url,
                api_key=None,
                headers={"Authorization": f"Bearer {create_token(name, SECRET)}"},
            )
            for name in ("alice", "bob")
        }
        await tell(sdks["alice"], "Hi! I'm Zanele.", "name: Zanele")
        await tell(sdks["bob"], "Hi! I'm Ikaika.", "name: Ikaika")
        await wait_for_memory(sdks["alice"], {"name": "Zanele"}, "alice")
        await wait_for_memory(sdks["bob"], {"name": "Ikaika"}, "bob")

        alice_prompt = await ask_in_a_new_thread(sdks["alice"], "What's my name?")
        bob_prompt = await ask_in_a_new_thread(sdks["bob"], "What's my name?")
        assert "Zanele" in alice_prompt and "Ikaika" not in alice_prompt
        assert "Ikaika" in bob_prompt and "Zanele" not in bob_prompt

        # Bob can neither read, list, change nor delete Alice's memory.
        with httpx.Client(base_url=server.url, timeout=30) as http:
            bob = {"Authorization": f"Bearer {create_token('bob', SECRET)}"}
            search = http.post(
                "/store/items/search", json={"namespace_prefix": ["alice", "memories"]}, headers=bob
            )
            assert search.status_code == 403
            everyone = http.post("/store/items/search", json={"namespace_prefix": []}, headers=bob)
            assert {tuple(i["namespace"]) for i in everyone.json()["items"]} == {
                ("bob", "memories")
            }
            item = {"namespace": ["alice", "memories"], "key": "name", "value": {"text": "Bob"}}
            assert http.put("/store/items", json=item, headers=bob).status_code == 403
            gone = {"namespace": ["alice", "memories"], "key": "name"}
            assert http.request("DELETE", "/store/items", json=gone, headers=bob).status_code == 403
        assert await memory(sdks["alice"], "alice") == {"name": "Zanele"}

        # The CLI lists the memory of the user its token names.
        for name, fact in (("alice", "Zanele"), ("bob", "Ikaika")):
            listed = chatbot_with_token(server.url, create_token(name, SECRET), "memory")
            assert listed.returncode == 0, listed.stderr
            assert fact in listed.stdout
            assert {"alice": "Ikaika", "bob": "Zanele"}[name] not in listed.stdout


def chatbot_with_token(url: str, token: str, *args: str) -> Any:
    import os
    import subprocess

    from agent.testing.dev_server import CHATBOT_CLI

    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    return subprocess.run(
        [str(CHATBOT_CLI), "--url", url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "CHATBOT_TOKEN": token},
    )


RECALL_PEOPLE = [("Zanele", "Windhoek"), ("Ikaika", "Hilo")]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_embedded_model_recalls_name_and_home_in_a_new_thread(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The issue's scenario with the embedded default model, end to end."""
    env = backend_env(backend, request)
    workdir = tmp_path / backend
    workdir.mkdir()
    write_config(workdir)
    server = DevServer(workdir=workdir, port=free_port(), env=server_environment(**env))
    name, city = RECALL_PEOPLE[BACKENDS.index(backend)]
    try:
        server.start()
        served = httpx.get(f"{server.url}/chatbot/model", timeout=30).json()["model"]
        if "gemma" in str(served).lower():
            pytest.skip(
                f"the embedded model is {served}: a base model that answers with its few-shot "
                "preamble's name, not the user's (issue 13 makes Qwen2.5 0.5B the default)"
            )
        sdk = get_client(url=server.url, api_key=None)
        first = str((await sdk.threads.create())["thread_id"])
        await say(sdk, first, f"Hi! I'm {name} and I live in {city}.")
        await wait_for_memory(sdk, {"name": name, "location": city})
        second = str((await sdk.threads.create())["thread_id"])
        values = await say(sdk, second, "What's my name and where do I live?")
        answer = str(values["messages"][-1]["content"])
        assert name in answer and city in answer, answer
    finally:
        server.stop()
