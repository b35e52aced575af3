"""Durable conversations: PostgreSQL and SQLite checkpointers behind a real server."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError

from agent.models.local.launcher import free_port
from agent.testing import scripted_model as fake_model
from agent.testing.dev_server import DevServer, server_environment, write_config

from .helpers import contents, say, user


def server_in(workdir: Path, **env: str) -> DevServer:
    workdir.mkdir(parents=True, exist_ok=True)
    write_config(workdir)
    return DevServer(workdir=workdir, port=free_port(), env=server_environment(**env))


async def states(client: LangGraphClient, thread_ids: list[str]) -> dict[str, Any]:
    return {t: (await client.threads.get_state(t))["values"] for t in thread_ids}


def assert_whole_turns(values: dict[str, Any], said: list[str]) -> None:
    """The thread holds exactly the turns sent, in order, each with one reply."""
    messages = values["messages"]
    assert [m["type"] for m in messages] == ["human", "ai"] * len(said)
    assert contents(values)[::2] == said
    assert all(m["content"] for m in messages[1::2]), "an empty reply was stored"
    ids = [m["id"] for m in messages]
    assert len(ids) == len(set(ids)), "a message is stored twice"


async def test_postgres_keeps_conversations_in_the_database_across_restarts(
    tmp_path: Path, postgres_uri: str
) -> None:
    server = server_in(tmp_path / "pg", POSTGRES_URI=postgres_uri)
    try:
        server.start()
        assert "Conversations are stored in PostgreSQL" in server.log()
        client = get_client(url=server.url, api_key=None)
        thread_a = (await client.threads.create())["thread_id"]
        thread_b = (await client.threads.create())["thread_id"]
        await say(client, thread_a, "Hi! I'm Bob")
        values_a = await say(client, thread_a, "What's my name?")
        values_b = await say(client, thread_b, "What's my name?")
        assert len(values_a["messages"]) == 4 and len(values_b["messages"]) == 2
        assert "bob" in contents(values_a)[3].lower()
        assert "bob" not in " ".join(contents(values_b)).lower()

        with psycopg.connect(postgres_uri) as db:
            rows = dict(
                db.execute(
                    "SELECT thread_id, count(*) FROM chatbot.checkpoints GROUP BY thread_id"
                ).fetchall()
            )
            # The transcript is a DeltaChannel: its messages are stored as each step's
            # writes, not as a copy of the whole list per checkpoint.
            writes = db.execute(
                "SELECT count(*) FROM chatbot.checkpoint_writes "
                "WHERE thread_id = %s AND channel = 'messages'",
                (thread_a,),
            ).fetchone()
        assert set(rows) == {thread_a, thread_b}
        # Every checkpoint of these turns is in the database, for time travel.
        history = await client.threads.get_history(thread_a, limit=100)
        assert rows[thread_a] == len(history), rows
        assert writes is not None and writes[0] == 4, "each message written once"

        before = await states(client, [thread_a, thread_b])
        server.stop()
        server.start()
        client = get_client(url=server.url, api_key=None)
        assert await states(client, [thread_a, thread_b]) == before
        assert_whole_turns(before[thread_a], ["Hi! I'm Bob", "What's my name?"])

        # Deleting a run removes the run, never the conversation it is part of.
        runs = await client.runs.list(thread_a)
        await client.runs.delete(thread_a, runs[0]["run_id"])
        assert len(await client.runs.list(thread_a)) == len(runs) - 1
        assert (await states(client, [thread_a]))[thread_a] == before[thread_a]
    finally:
        server.stop()


async def test_sqlite_keeps_every_completed_turn_through_kill_9(tmp_path: Path) -> None:
    server = server_in(tmp_path / "sqlite")
    try:
        server.start()
        client = get_client(url=server.url, api_key=None)
        said = {
            "a": ["Hi! I'm Bob", "What's my name?", "What is the capital of France?"],
            "b": ["What is the capital of Italy?"],
        }
        threads = {key: (await client.threads.create())["thread_id"] for key in said}
        for key, texts in said.items():
            for text in texts:
                await say(client, threads[key], text)

        # No clean shutdown: the dev server's own thread index (flushed every 10 s)
        # loses these new threads; the database holds every completed turn.
        server.stop(signal.SIGKILL)
        assert (server.workdir / ".chatbot" / "checkpoints.sqlite").exists()
        server.start()

        client = get_client(url=server.url, api_key=None)

        # The server re-indexes lost threads from the database as it starts: wait until
        # they are listed as agent-chat-ui lists them (by graph id), however far the
        # dev server's own index had been flushed before the kill.
        async def all_listed() -> bool:
            listed = await client.threads.search(metadata={"graph_id": "chatbot"}, limit=100)
            return set(threads.values()) <= {t["thread_id"] for t in listed}

        await wait_for(all_listed)
        after = await states(client, list(threads.values()))
        for key, texts in said.items():
            assert_whole_turns(after[threads[key]], texts)
        # The recovered thread goes on where it stopped.
        values = await say(client, threads["b"], "Thanks!")
        assert_whole_turns(values, [*said["b"], "Thanks!"])
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("uri", "problem", "advice"),
    [
        (
            "not a uri",
            "POSTGRES_URI is not a valid PostgreSQL URI",
            "Use e.g. postgresql://user:password@",
        ),
        (
            "postgresql://postgres:secret@127.0.0.1:1/nowhere",
            "POSTGRES_URI: cannot connect to PostgreSQL at",
            "unset POSTGRES_URI to use SQLite",
        ),
    ],
    ids=["malformed", "unreachable"],
)
def test_bad_database_uri_stops_the_server_at_start(
    tmp_path: Path, uri: str, problem: str, advice: str
) -> None:
    server = server_in(tmp_path / "bad", POSTGRES_URI=uri)
    with pytest.raises(RuntimeError, match="exited early"):
        server.start()
    log = server.log()
    assert problem in log and advice in log
    assert "secret" not in log, "the password leaked into the log"


@pytest.fixture
def scripted_model() -> Iterator[str]:
    """The scripted OpenAI-compatible model server, answering at once unless told to wait."""
    with fake_model.running() as url:
        yield url


async def wait_for(condition: Any, timeout: float = 60.0) -> Any:
    """Poll the async ``condition`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await condition():
            return result
        await asyncio.sleep(0.2)
    raise AssertionError("condition not met in time")


async def test_turn_cut_off_by_kill_9_is_finished_after_restart(
    tmp_path: Path, scripted_model: str
) -> None:
    server = server_in(tmp_path / "midturn", OPENAI_BASE_URL=scripted_model, OPENAI_API_KEY="x")
    try:
        server.start()
        client = get_client(url=server.url, api_key=None)
        thread = (await client.threads.create())["thread_id"]
        await say(client, thread, "first")

        fake_model.settings.delay_s = 60.0  # the model hangs: the turn is under way
        await client.runs.create(thread, "chatbot", input=user("second"))

        async def user_message_saved() -> bool:
            values = (await client.threads.get_state(thread))["values"]
            return len(values["messages"]) == 3

        await wait_for(user_message_saved)
        server.stop(signal.SIGKILL)  # the user's message is saved, its reply is not

        fake_model.settings.delay_s = 0.0
        server.start()
        client = get_client(url=server.url, api_key=None)

        async def turn_finished() -> dict[str, Any] | None:
            try:  # until the server has re-indexed the thread, it answers 404
                values: dict[str, Any] = (await client.threads.get_state(thread))["values"]
            except NotFoundError:
                return None
            return values if len(values["messages"]) == 4 else None

        values = await wait_for(turn_finished)
        assert_whole_turns(values, ["first", "second"])
    finally:
        server.stop()
