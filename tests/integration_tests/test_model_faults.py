"""A flaky model behind a real server: every turn succeeds or fails clearly, nothing is mixed up."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_client

from agent.testing import scripted_model as fake
from agent.testing.dev_server import DevServer, dev_server_with_scripted_model

from .helpers import GRAPH_ID, chatbot, user

TURNS = 50
FAILURE_RATE = 0.3


FAULTS: list[int | str] = [429, 500, 503, "timeout", "cut", "stall", "error-event"]
"""Before the reply (retried by the client) and in its middle (not retried)."""
MID_REPLY_FAULTS = {"cut", "stall", "error-event"}


def replay(schedule: list[int | str | None], turns: int) -> tuple[list[str], int]:
    """Return each turn's expected outcome, and the requests made, for a fault schedule.

    A fault before the reply is retried (3 attempts in all); one in its middle fails
    the turn at once.
    """
    pending, outcomes, requests = list(schedule), [], 0
    for _turn in range(turns):
        outcome = "failed"
        for _attempt in range(3):
            fault = pending.pop(0) if pending else None
            requests += 1
            if fault is None:
                outcome = "answered"
                break
            if fault in MID_REPLY_FAULTS:
                break
        outcomes.append(outcome)
    return outcomes, requests


@pytest.fixture
def flaky_server(tmp_path: Path) -> Iterator[tuple[DevServer, str]]:
    """A dev server whose model is the scripted one, with a 1 s read timeout."""
    with dev_server_with_scripted_model(tmp_path, CHATBOT_MODEL_TIMEOUT="1") as running:
        fake.settings.hang_s = 3.0
        yield running


async def test_thirty_percent_of_model_calls_failing_over_fifty_turns(
    flaky_server: tuple[DevServer, str],
) -> None:
    server, model_url = flaky_server
    rng = random.Random(7)  # the same schedule every run
    schedule = [
        rng.choice(FAULTS) if rng.random() < FAILURE_RATE else None for _ in range(TURNS * 3)
    ]
    fake.settings.failures = list(schedule)
    client = get_client(url=server.url, api_key=None)
    thread = (await client.threads.create())["thread_id"]
    outcomes: list[str] = []
    for turn in range(TURNS):
        text = f"message {turn}"
        error: Any = None
        if turn % 2:  # half the turns streamed, half waited on
            async for part in client.runs.stream(
                thread, GRAPH_ID, input=user(text), stream_mode="messages-tuple"
            ):
                if part.event == "error":
                    error = part.data
        else:
            result = await client.runs.wait(thread, GRAPH_ID, input=user(text), raise_error=False)
            error = result.get("__error__") if isinstance(result, dict) else None
        if error:
            assert error["error"] == "ModelCallError", error
            assert f"the model server at {model_url}" in error["message"]
            assert (
                "(3 attempts)" in error["message"]
                or "did not answer in time" in error["message"]
                or "in the middle of its reply" in error["message"]
            ), error
            outcomes.append("failed")
        else:
            outcomes.append("answered")

    messages = (await client.threads.get_state(thread))["values"]["messages"]
    humans = [m["content"] for m in messages if m["type"] == "human"]
    assert humans == [f"message {turn}" for turn in range(TURNS)], "a message was lost or doubled"
    assert len({m["id"] for m in messages}) == len(messages)
    # Each answered turn has exactly one reply, right after its message; a failed turn none.
    replies_after = []
    for index, message in enumerate(messages):
        if message["type"] == "human":
            following = messages[index + 1] if index + 1 < len(messages) else None
            replies_after.append(following is not None and following["type"] == "ai")
    assert replies_after == [outcome == "answered" for outcome in outcomes]
    assert all(
        messages[index - 1]["type"] == "human"
        for index, message in enumerate(messages)
        if message["type"] == "ai"
    ), "a reply without its message"
    expected_outcomes, expected_requests = replay(schedule, TURNS)
    assert outcomes == expected_outcomes, "retried exactly the faults before a reply"
    assert fake.settings.requests == expected_requests


async def test_cli_shows_a_reply_cut_off_and_the_next_turn_works(
    flaky_server: tuple[DevServer, str],
) -> None:
    server, _model_url = flaky_server
    client = get_client(url=server.url, api_key=None)
    thread = (await client.threads.create())["thread_id"]
    fake.settings.failures = ["cut"]
    fake.settings.replies = ["Half of this reply", "A whole reply."]
    chat = await asyncio.to_thread(
        chatbot, server.url, "chat", "--thread", thread, stdin="first try\nsecond try\n"
    )
    assert chat.returncode == 0, chat.stderr
    assert "bot> Half of\n" in chat.stdout, "the half that came is shown"
    assert "bot> A whole reply.\n" in chat.stdout
    failure = " ".join(chat.stderr.split())
    assert "The reply failed: The chat model failed:" in failure
    assert "dropped the connection in the middle of its reply" in failure
    assert "The partial reply was not saved; send the message again." in failure

    messages = (await client.threads.get_state(thread))["values"]["messages"]
    assert [(m["type"], m["content"]) for m in messages] == [
        ("human", "first try"),
        ("human", "second try"),
        ("ai", "A whole reply."),
    ]
