"""Memory across conversations against a real server: SQLite and PostgreSQL, restarts, users.

Most tests script the model (``agent.testing.scripted_model``): each turn that
states something about the user takes a reply and, after it (off the reply's
path), the extraction's ``topic: value`` lines, so what is checked is the mechanism (what
is saved, what reaches the next prompt, what survives), not a model's wit.
The ``embedded`` tests use the embedded default model end to end: a fact
stated in Korean and one in French (a pet: no fixed kind) known in new threads
of the same user and not another's, and a correction in Korean. Names, places
and pets here appear in no prompt of the chatbot (unit test
``test_memory_names_are_in_no_prompt``), and are written in Hangul, kana and
accented Latin.
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


def note(noted: str) -> None:
    """Script the next memory extraction's answer (the chatbot's background request)."""
    scripted_model.settings.background_replies.setdefault("memory", []).append(noted)


async def extraction_done() -> None:
    """Wait until every scripted extraction answer was asked for (learning runs after the reply)."""
    deadline = time.monotonic() + DEADLINE_S
    while scripted_model.settings.background_replies.get("memory"):
        if time.monotonic() > deadline:
            raise AssertionError("the memory extraction was never asked for")
        await asyncio.sleep(0.2)


async def tell(client: LangGraphClient, text: str, noted: str, thread: str | None = None) -> str:
    """Say ``text`` in ``thread`` (a new one by default); the extraction answers ``noted``."""
    scripted_model.settings.replies.append("Nice to know!")
    note(noted)
    thread = thread or await new_thread(client)
    await say(client, thread, text)
    await extraction_done()
    return thread


async def memory(client: LangGraphClient, user_id: str = "local") -> dict[str, list[str]]:
    """Return the user's facts as the store holds them: topic -> values, sorted."""
    found = await client.store.search_items([user_id, "memories"], limit=1000)
    saved: dict[str, list[str]] = {}
    for item in found["items"]:
        saved.setdefault(str(item["value"]["topic"]), []).append(str(item["value"]["text"]))
    return {topic: sorted(texts) for topic, texts in saved.items()}


async def wait_for_memory(
    client: LangGraphClient, expected: dict[str, list[str]], user_id: str = "local"
) -> None:
    """Poll the store until it holds exactly ``expected`` (generous deadline, no sleeps asserted)."""
    deadline = time.monotonic() + DEADLINE_S
    seen: dict[str, list[str]] = {}
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


KOREAN_INTRO = "안녕하세요! 저는 지유예요. 광주에 살고 있어요."
KOREAN_MOVE = "사실 지난달에 여수로 이사했어."
FRENCH_PET = "J'ai une chienne qui s'appelle Gévaudan."
JAPANESE_PET = "うちの猫はモカという名前です。"


async def test_a_new_thread_uses_what_an_earlier_one_learnt(client: LangGraphClient) -> None:
    await tell(client, KOREAN_INTRO, "name: 지유\nlocation: 광주")
    await wait_for_memory(client, {"name": ["지유"], "location": ["광주"]})
    system = await ask_in_a_new_thread(client, "내 이름이 뭐야?")
    assert "지유" in system and "광주" in system


async def test_a_fact_of_any_topic_is_remembered_across_threads(client: LangGraphClient) -> None:
    await tell(client, FRENCH_PET, "pet: Gévaudan")
    await tell(client, JAPANESE_PET, "pet: モカ")
    await wait_for_memory(client, {"pet": ["Gévaudan", "モカ"]})  # a second pet adds
    system = await ask_in_a_new_thread(client, "Comment s'appelle ma chienne ?")
    assert "Gévaudan" in system and "モカ" in system


async def test_a_correction_replaces_the_fact(client: LangGraphClient) -> None:
    await tell(client, KOREAN_INTRO, "name: 지유\nlocation: 광주")
    await wait_for_memory(client, {"name": ["지유"], "location": ["광주"]})
    await tell(client, KOREAN_MOVE, "location: 여수")
    await wait_for_memory(client, {"name": ["지유"], "location": ["여수"]})
    system = await ask_in_a_new_thread(client, "나 어디 살아?")
    assert "여수" in system and "광주" not in system


async def test_a_made_up_fact_is_not_saved(client: LangGraphClient) -> None:
    # The extraction answers with a translated city and a name the user never wrote.
    await tell(client, KOREAN_INTRO, "name: 지유\nlocation: Gwangju\npet: 모카")
    await wait_for_memory(client, {"name": ["지유"]})


async def test_a_thread_that_opts_out_saves_and_uses_nothing(client: LangGraphClient) -> None:
    await tell(client, KOREAN_INTRO, "name: 지유\nlocation: 광주")
    await wait_for_memory(client, {"name": ["지유"], "location": ["광주"]})
    private = await new_thread(client, remember=False)
    scripted_model.settings.replies += ["Nice to know!"]
    await say(client, private, FRENCH_PET)
    assert "광주" not in system_prompt_of_last_request()
    requests = scripted_model.settings.requests
    await say(client, private, JAPANESE_PET)
    assert scripted_model.settings.requests == requests + 1, "no extraction request"
    assert await memory(client) == {"name": ["지유"], "location": ["광주"]}


async def test_an_edited_message_takes_its_fact_along(client: LangGraphClient) -> None:
    thread = await tell(client, KOREAN_INTRO, "name: 지유\nlocation: 광주")
    await wait_for_memory(client, {"name": ["지유"], "location": ["광주"]})
    history = await client.threads.get_history(thread, limit=100)
    first = next(s for s in reversed(history) if s["values"].get("messages"))
    scripted_model.settings.replies.append("Nice to know!")
    note("pet: Gévaudan")
    await client.runs.wait(
        thread, GRAPH_ID, input=user(FRENCH_PET), checkpoint=first["parent_checkpoint"]
    )
    await wait_for_memory(client, {"pet": ["Gévaudan"]})


async def test_deleting_a_thread_forgets_what_was_learnt_in_it(client: LangGraphClient) -> None:
    kept = await tell(client, FRENCH_PET, "pet: Gévaudan")
    doomed = await tell(client, KOREAN_INTRO, "name: 지유\nlocation: 광주")
    await wait_for_memory(client, {"pet": ["Gévaudan"], "name": ["지유"], "location": ["광주"]})
    runs = await client.runs.list(kept)
    await client.runs.delete(kept, runs[0]["run_id"])  # a run's deletion keeps the facts
    await client.threads.delete(doomed)
    await wait_for_memory(client, {"pet": ["Gévaudan"]})


async def test_cli_delete_names_the_facts_it_forgets_with_the_thread(
    scripted: tuple[DevServer, str], client: LangGraphClient
) -> None:
    url = scripted[0].url
    await tell(client, FRENCH_PET, "pet: Gévaudan")
    doomed = await tell(client, KOREAN_INTRO, "name: 지유\nlocation: 광주")
    await wait_for_memory(client, {"pet": ["Gévaudan"], "name": ["지유"], "location": ["광주"]})
    quiet = await new_thread(client)

    deleted = chatbot(url, "delete", doomed, "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert "also forgot: name 지유, location 광주" in deleted.stdout, deleted.stdout
    await wait_for_memory(client, {"pet": ["Gévaudan"]})
    nothing_learnt = chatbot(url, "delete", quiet, "--yes")
    assert nothing_learnt.returncode == 0, nothing_learnt.stderr
    assert "also forgot" not in nothing_learnt.stdout


async def test_cli_lists_corrects_and_forgets_one_fact_or_all(
    scripted: tuple[DevServer, str], client: LangGraphClient
) -> None:
    url = scripted[0].url
    await tell(client, KOREAN_INTRO, "name: 지유\nlocation: 광주")
    await tell(client, FRENCH_PET, "pet: Gévaudan")
    await wait_for_memory(client, {"name": ["지유"], "location": ["광주"], "pet": ["Gévaudan"]})

    listed = chatbot(url, "memory")
    assert listed.returncode == 0, listed.stderr
    for words in ("지유", "광주", "Gévaudan", "name", "location", "pet"):
        assert words in listed.stdout  # as the user wrote it, with its topic

    # Listed in the topics' order: 1 name, 2 location, 3 pet.
    corrected = chatbot(url, "memory", "correct", "2", "여수")
    assert corrected.returncode == 0, corrected.stderr
    assert await memory(client) == {"name": ["지유"], "location": ["여수"], "pet": ["Gévaudan"]}

    forgot = chatbot(url, "memory", "forget", "location")  # by id
    assert forgot.returncode == 0, forgot.stderr
    forgot = chatbot(url, "memory", "forget", "2")  # by number: the pet, now second
    assert forgot.returncode == 0, forgot.stderr
    listed = chatbot(url, "memory")
    assert "여수" not in listed.stdout and "Gévaudan" not in listed.stdout
    assert "지유" in listed.stdout
    assert await memory(client) == {"name": ["지유"]}

    missing = chatbot(url, "memory", "forget", "location")
    assert missing.returncode == 1 and "chatbot memory" in missing.stderr

    refused = chatbot(url, "memory", "forget", "--all")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    everything = chatbot(url, "memory", "forget", "--all", "--yes")
    assert everything.returncode == 0, everything.stderr
    assert "Forgot 1 fact(s)" in everything.stdout
    assert "Nothing is remembered" in chatbot(url, "memory").stdout

    system = await ask_in_a_new_thread(client, "내 이름이 뭐야?")
    assert "지유" not in system and "remember about the user" not in system


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("how", ["restart", "kill -9"])
async def test_memory_survives_restart_and_kill_9(
    backend: str, how: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    env = backend_env(backend, request)
    (tmp_path / backend).mkdir()
    with dev_server_with_scripted_model(tmp_path / backend, **env) as (server, _model):
        sdk = get_client(url=server.url, api_key=None)
        await tell(sdk, KOREAN_INTRO, "name: 지유\nlocation: 광주")
        await wait_for_memory(sdk, {"name": ["지유"], "location": ["광주"]})
        server.stop(signal.SIGKILL if how == "kill -9" else signal.SIGINT)
        server.start()
        sdk = get_client(url=server.url, api_key=None)
        assert await memory(sdk) == {"name": ["지유"], "location": ["광주"]}
        system = await ask_in_a_new_thread(sdk, "내 이름이 뭐야?")
        assert "지유" in system and "광주" in system


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
        await tell(sdks["alice"], KOREAN_INTRO, "name: 지유\nlocation: 광주")
        await tell(
            sdks["bob"], "Je m'appelle Maëlle et j'habite à Dinan.", "name: Maëlle\nlocation: Dinan"
        )
        await wait_for_memory(sdks["alice"], {"name": ["지유"], "location": ["광주"]}, "alice")
        await wait_for_memory(sdks["bob"], {"name": ["Maëlle"], "location": ["Dinan"]}, "bob")

        alice_prompt = await ask_in_a_new_thread(sdks["alice"], "내 이름이 뭐야?")
        bob_prompt = await ask_in_a_new_thread(sdks["bob"], "Comment je m'appelle ?")
        assert "지유" in alice_prompt and "Maëlle" not in alice_prompt
        assert "Maëlle" in bob_prompt and "Dinan" in bob_prompt and "지유" not in bob_prompt

        # Bob can neither read, list, change nor delete Alice's memory.
        with httpx.Client(base_url=server.url, timeout=30) as http:
            bob = {"Authorization": f"Bearer {create_token('bob', SECRET)}"}
            search = http.post(
                "/store/items/search", json={"namespace_prefix": ["alice", "memories"]}, headers=bob
            )
            assert search.status_code == 403
            everyone = http.post("/store/items/search", json={"namespace_prefix": []}, headers=bob)
            assert {i["namespace"][0] for i in everyone.json()["items"]} == {"bob"}
            item = {"namespace": ["alice", "memories"], "key": "name", "value": {"text": "Bob"}}
            assert http.put("/store/items", json=item, headers=bob).status_code == 403
            gone = {"namespace": ["alice", "memories"], "key": "name"}
            assert http.request("DELETE", "/store/items", json=gone, headers=bob).status_code == 403
        assert await memory(sdks["alice"], "alice") == {"name": ["지유"], "location": ["광주"]}

        # The CLI lists the memory of the user its token names.
        for name, fact in (("alice", "지유"), ("bob", "Maëlle")):
            listed = chatbot_with_token(server.url, create_token(name, SECRET), "memory")
            assert listed.returncode == 0, listed.stderr
            assert fact in listed.stdout
            assert {"alice": "Maëlle", "bob": "지유"}[name] not in listed.stdout


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


def embedded_server(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> DevServer:
    """A server on the embedded default model with memory and auth on, on ``backend``."""
    env = backend_env(backend, request)
    workdir = tmp_path / backend
    workdir.mkdir()
    write_config(workdir)
    return DevServer(
        workdir=workdir,
        port=free_port(),
        env=server_environment(**env, CHATBOT_AUTH_SECRET=SECRET),
    )


def as_user(server: DevServer, name: str) -> LangGraphClient:
    token = create_token(name, SECRET)
    return get_client(url=server.url, api_key=None, headers={"Authorization": f"Bearer {token}"})


async def remembered_by_the_model(sdk: LangGraphClient, user_id: str, *words: str) -> None:
    """Wait until the user's memory holds every one of ``words`` (the model chose the topics)."""
    deadline = time.monotonic() + DEADLINE_S * 3
    texts = ""
    while time.monotonic() < deadline:
        texts = " ".join(t for ts in (await memory(sdk, user_id)).values() for t in ts)
        if all(word in texts for word in words):
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"the memory holds {texts!r}, expected {words}")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_embedded_model_remembers_korean_and_french_for_their_user_only(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The issue's scenario with the embedded default model, end to end, two languages."""
    server = embedded_server(backend, request, tmp_path)
    try:
        server.start()
        alice, bob = as_user(server, "alice"), as_user(server, "bob")
        await say(alice, await new_thread(alice), KOREAN_INTRO)
        await say(alice, await new_thread(alice), FRENCH_PET)
        await remembered_by_the_model(alice, "alice", "지유", "광주", "Gévaudan")
        assert await memory(bob, "bob") == {}

        values = await say(alice, await new_thread(alice), "내 이름이 뭐야? 그리고 어디 살아?")
        answer = str(values["messages"][-1]["content"])
        assert "지유" in answer and "광주" in answer, answer
        values = await say(alice, await new_thread(alice), "Comment s'appelle ma chienne ?")
        assert "Gévaudan" in str(values["messages"][-1]["content"])

        values = await say(bob, await new_thread(bob), "내 이름이 뭐야?")
        assert "지유" not in str(values["messages"][-1]["content"])
    finally:
        server.stop()


async def test_embedded_model_applies_a_correction(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    server = embedded_server("sqlite", request, tmp_path)
    try:
        server.start()
        alice = as_user(server, "alice")
        await say(alice, await new_thread(alice), KOREAN_INTRO)
        await remembered_by_the_model(alice, "alice", "광주")
        await say(alice, await new_thread(alice), KOREAN_MOVE)
        await remembered_by_the_model(alice, "alice", "여수")
        assert (await memory(alice, "alice")).get("location") == ["여수"]
        values = await say(alice, await new_thread(alice), "나 어디 살아?")
        assert "여수" in str(values["messages"][-1]["content"])
    finally:
        server.stop()
