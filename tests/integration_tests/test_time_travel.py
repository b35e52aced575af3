"""Conversations nothing can lose: whole transcripts, edit, regenerate, branches and rollback.

Against a real ``langgraph dev`` on SQLite and on the machine's PostgreSQL, with the SDK
called the way agent-chat-ui (the JS SDK's ``useStream``) calls it: an edit starts a run
from the parent checkpoint of the first state in ``get_history`` where the human message
appears; a regenerate starts a run with no input from the parent checkpoint of the first
state where the AI message appears; branches are the states ``get_history`` returns.
The model is the scripted one, so replies and timing are under the test's control.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from langchain_core.messages import convert_to_messages
from langchain_core.messages.utils import count_tokens_approximately
from langgraph.pregel.remote import RemoteGraph
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent.testing import scripted_model
from agent.testing.dev_server import DevServer, dev_server_with_scripted_model
from agent.testing.postgres import PostgresUnavailable, fresh_database

from .helpers import GRAPH_ID, chatbot, user

BUDGET = 200
"""A small token budget, so long threads fold into the summary many times."""

STREAM = {"stream_mode": ["values"], "stream_subgraphs": True, "stream_resumable": True}
"""What agent-chat-ui's submit asks for."""


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DevServer]:
    """A dev server with the scripted model and a 200-token budget, on each backend."""
    with ExitStack() as stack:
        env = {"CHATBOT_MAX_HISTORY_TOKENS": str(BUDGET)}
        if request.param == "postgres":
            try:
                env["POSTGRES_URI"] = stack.enter_context(fresh_database())
            except PostgresUnavailable as error:
                pytest.skip(str(error))
        workdir = tmp_path_factory.mktemp(f"time-travel-{request.param}")
        running, _model_url = stack.enter_context(dev_server_with_scripted_model(workdir, **env))
        yield running


@pytest.fixture
async def client(server: DevServer) -> AsyncIterator[LangGraphClient]:
    scripted_model.settings.reset()
    scripted_model.settings.summarize_by_rule = True
    sdk = get_client(url=server.url, api_key=None)
    try:
        yield sdk
    finally:
        scripted_model.settings.reset()
        await sdk.http.client.aclose()


async def submit(client: LangGraphClient, thread: str, run_input: Any, **options: Any) -> None:
    """Run to the end as agent-chat-ui does (a resumable stream of values); fail on an error."""
    async for part in client.runs.stream(thread, GRAPH_ID, input=run_input, **STREAM, **options):
        assert part.event != "error", part.data


async def conversation(client: LangGraphClient, said: list[str]) -> str:
    thread = (await client.threads.create())["thread_id"]
    for text in said:
        await submit(client, thread, user(text))
    return thread


async def messages(client: LangGraphClient, thread: str) -> list[dict[str, Any]]:
    return list((await client.threads.get_state(thread))["values"]["messages"])


def texts(values: list[dict[str, Any]]) -> list[str]:
    return [str(message["content"]) for message in values]


def first_seen(history: list[dict[str, Any]], message_id: str) -> dict[str, Any]:
    """The oldest state that holds the message (useStream's ``firstSeenState``)."""
    for state in reversed(history):  # get_history lists the newest first
        if any(m["id"] == message_id for m in state["values"].get("messages", [])):
            return state
    raise AssertionError(f"message {message_id} is in no state of the history")


async def edit(client: LangGraphClient, thread: str, message_id: str, text: str) -> None:
    history = await client.threads.get_history(thread, limit=1000)
    parent = first_seen(history, message_id)["parent_checkpoint"]
    await submit(client, thread, user(text), checkpoint=parent)


async def regenerate(client: LangGraphClient, thread: str, message_id: str) -> None:
    history = await client.threads.get_history(thread, limit=1000)
    parent = first_seen(history, message_id)["parent_checkpoint"]
    await submit(client, thread, None, checkpoint=parent)


async def test_edit_regenerate_and_go_back_to_the_first_branch(client: LangGraphClient) -> None:
    scripted_model.settings.replies = ["Hello Bob!", "4.", "You are Bob.", "6.", "Six."]
    thread = await conversation(client, ["Hi! I'm Bob", "What is 2+2?", "What's my name?"])
    original = await messages(client, thread)
    assert texts(original) == ["Hi! I'm Bob", "Hello Bob!", "What is 2+2?", "4."] + [
        "What's my name?",
        "You are Bob.",
    ]

    await edit(client, thread, original[2]["id"], "What is 3+3?")
    edited = await messages(client, thread)
    assert edited[:2] == original[:2], "turn 1 is kept as it was"
    assert texts(edited[2:]) == ["What is 3+3?", "6."]

    await regenerate(client, thread, edited[3]["id"])
    regenerated = await messages(client, thread)
    assert regenerated[:3] == edited[:3]
    assert texts(regenerated[3:]) == ["Six."]

    await submit(client, thread, user("One more turn on this branch."))
    history = await client.threads.get_history(thread, limit=1000)
    heads = [state for state in history if not state["next"]]
    first_branch = next(
        state
        for state in heads
        if [m["id"] for m in state["values"]["messages"]] == [m["id"] for m in original]
    )
    scripted_model.settings.replies = ["Back again."]
    await submit(
        client, thread, user("Back on the first branch."), checkpoint=first_branch["checkpoint"]
    )
    back = await messages(client, thread)
    assert back[:6] == original, "the first branch is whole"
    assert texts(back[6:]) == ["Back on the first branch.", "Back again."]


async def test_a_run_from_an_unknown_checkpoint_is_refused_and_the_thread_is_intact(
    client: LangGraphClient, server: DevServer
) -> None:
    thread = await conversation(client, ["Hi! I'm Bob", "Nice weather."])
    before = await messages(client, thread)
    history_before = await client.threads.get_history(thread, limit=1000)
    unknown = "1f0c0ffe-0000-6000-8000-000000000000"

    requests = [
        ("runs/wait", {"assistant_id": GRAPH_ID, "input": user("x"), "checkpoint_id": unknown}),
        (
            "runs/stream",
            {"assistant_id": GRAPH_ID, "input": None, "checkpoint": {"checkpoint_id": unknown}},
        ),
        (
            "state",
            {"values": {"messages": [{"role": "user", "content": "x"}]}, "checkpoint_id": unknown},
        ),
    ]
    for path, body in requests:
        response = httpx.post(f"{server.url}/threads/{thread}/{path}", json=body, timeout=30)
        assert response.status_code == 422, (path, response.text)
        detail = response.json()["detail"]
        assert f"Checkpoint {unknown} is not in thread {thread}" in detail
        assert "last 50 turns" in detail and f"/threads/{thread}/history" in detail

    assert await messages(client, thread) == before
    assert len(await client.threads.get_history(thread, limit=1000)) == len(history_before)


async def first_token(client: LangGraphClient, thread: str, run_id: str) -> None:
    async for part in client.runs.join_stream(thread, run_id, stream_mode="messages-tuple"):
        if part.event.startswith("messages") and part.data and part.data[0].get("content"):
            return
    raise AssertionError("the run ended before its first token")


async def slow_run(client: LangGraphClient, thread: str, text: str) -> str:
    """Start a run whose reply streams a word every 0.3 s; return it once a token is out."""
    scripted_model.settings.word_delay_s = 0.3
    scripted_model.settings.replies = ["word " * 50]
    run = await client.runs.create(
        thread, GRAPH_ID, input=user(text), stream_mode=["messages-tuple"], stream_resumable=True
    )
    await first_token(client, thread, run["run_id"])
    return str(run["run_id"])


async def test_rollback_leaves_the_thread_exactly_as_it_was(client: LangGraphClient) -> None:
    thread = await conversation(client, ["Hi! I'm Bob", "Nice weather."])
    before = await messages(client, thread)
    history_before = await client.threads.get_history(thread, limit=1000)

    run_id = await slow_run(client, thread, "Cancel me on the first token.")
    await client.runs.cancel(thread, run_id, action="rollback", wait=True)
    state = await client.threads.get_state(thread)
    assert state["values"]["messages"] == before and not state["next"]
    history = await client.threads.get_history(thread, limit=1000)
    assert [h["checkpoint"] for h in history] == [h["checkpoint"] for h in history_before]

    await slow_run(client, thread, "Replaced by the next message.")
    scripted_model.settings.word_delay_s = 0
    scripted_model.settings.replies = ["Answered."]
    await client.runs.wait(thread, GRAPH_ID, input=user("I win."), multitask_strategy="rollback")
    assert texts(await messages(client, thread)) == [*texts(before), "I win.", "Answered."]


async def test_deleting_a_finished_runs_record_keeps_its_turn(client: LangGraphClient) -> None:
    thread = await conversation(client, ["Hi! I'm Bob", "Nice weather."])
    before = await client.threads.get_state(thread)
    history_before = await client.threads.get_history(thread, limit=1000)
    runs = await client.runs.list(thread)

    await client.runs.delete(thread, runs[0]["run_id"])  # the newest turn's run

    assert len(await client.runs.list(thread)) == len(runs) - 1
    assert (await client.threads.get_state(thread))["values"] == before["values"]
    history = await client.threads.get_history(thread, limit=1000)
    assert [h["checkpoint"] for h in history] == [h["checkpoint"] for h in history_before]


async def test_interrupt_keeps_the_users_message_without_a_half_reply(
    client: LangGraphClient,
) -> None:
    thread = await conversation(client, ["Hi! I'm Bob"])
    before = await messages(client, thread)
    run_id = await slow_run(client, thread, "Stop this reply.")
    await client.runs.cancel(thread, run_id, action="interrupt", wait=True)
    kept = await messages(client, thread)
    assert kept[:-1] == before and texts(kept[-1:]) == ["Stop this reply."]
    assert (await client.threads.get(thread))["status"] == "interrupted"

    scripted_model.settings.word_delay_s = 0
    asked_before = len(scripted_model.settings.bodies)
    await submit(client, thread, user("Try something else."))
    asked = [
        str(body["messages"][-1]["content"])
        for body in scripted_model.settings.bodies[asked_before:]
    ]
    assert sum(text.startswith("Try something else.") for text in asked) == 1, asked
    after = await messages(client, thread)
    assert texts(after)[len(before) :][:2] == ["Stop this reply.", "Try something else."]
    assert len(after) == len(before) + 3, "one reply, to the new message only"
    assert after[-1]["type"] == "ai" and "word" not in texts(after[-1:])[0], "no half reply"


async def test_two_hundred_turns_keep_every_message_within_the_budget(
    client: LangGraphClient, server: DevServer
) -> None:
    rng = random.Random()
    name = "".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(3))
    city = "".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(4))
    first = f"My name is {name.title()} and I live in {city.title()}."
    said = [first] + [f"Small talk number {turn}, nothing to remember." for turn in range(1, 200)]
    thread = (await client.threads.create())["thread_id"]
    # Queued back to back (multitask "enqueue"), so the server runs them without idling.
    runs = [
        await client.runs.create(thread, GRAPH_ID, input=user(text), multitask_strategy="enqueue")
        for text in said
    ]
    await client.runs.join(thread, runs[-1]["run_id"])

    values = (await client.threads.get_state(thread))["values"]
    assert len(values["messages"]) == 400
    assert texts(values["messages"])[::2] == said, "every message, in order"
    assert first in values["summary"], "the summary still carries the first turn"

    answers = [
        body
        for body in scripted_model.settings.bodies
        if not str(body["messages"][0]["content"]).startswith("You keep a running summary")
    ]
    assert len(answers) == 200
    for body in answers:
        assert count_tokens_approximately(convert_to_messages(body["messages"])) <= BUDGET
    assert first in answers[-1]["messages"][0]["content"], "the summary reaches the prompt"

    listed = chatbot(server.url, "history", thread)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("you> ") == 200 and listed.stdout.count("bot> ") == 200
    assert first in listed.stdout


async def test_remote_graph_travels_back_and_forks_like_a_local_graph(server: DevServer) -> None:
    scripted_model.settings.reset()
    scripted_model.settings.replies = ["Hello Ana!", "Lisbon is lovely.", "Porto is lovely."]
    remote = RemoteGraph(GRAPH_ID, url=server.url)
    thread = (await get_client(url=server.url, api_key=None).threads.create())["thread_id"]
    config: Any = {"configurable": {"thread_id": thread}}
    await remote.ainvoke(user("Hi! I'm Ana."), config)
    await remote.ainvoke(user("I live in Lisbon."), config)

    history = [snapshot async for snapshot in remote.aget_state_history(config)]
    before_second = next(
        s
        for s in history
        if s.metadata and s.metadata.get("source") == "input" and len(s.values["messages"]) == 2
    )
    # RemoteGraph forks as Studio does: write the new message as of the old checkpoint
    # (a new branch), then run on from it.
    await remote.aupdate_state(before_second.config, user("I live in Porto."), as_node="__start__")
    forked = await remote.ainvoke(None, config)
    assert texts(forked["messages"]) == [
        "Hi! I'm Ana.",
        "Hello Ana!",
        "I live in Porto.",
        "Porto is lovely.",
    ]
    old = await remote.aget_state(history[0].config)
    assert texts(old.values["messages"])[2:] == ["I live in Lisbon.", "Lisbon is lovely."]
