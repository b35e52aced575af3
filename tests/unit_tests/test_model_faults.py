"""Model faults through the real OpenAI client against the scripted model server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agent import settings
from agent.conversation.context import Context
from agent.graph import build_graph
from agent.models.endpoint import ModelCallError
from agent.models.local.launcher import free_port
from agent.testing import scripted_model as fake


@pytest.fixture
def model_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with fake.running() as url:
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        yield url


async def turn(graph: Any, text: str) -> Any:
    config = {"configurable": {"thread_id": "t"}}
    return await graph.ainvoke(
        {"messages": [{"role": "user", "content": text}]}, config, context=Context(model="fake")
    )


async def test_a_passing_fault_is_retried_by_the_client(model_url: str) -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    fake.settings.failures = [429, 503]
    fake.settings.replies = ["Hello after two failures."]
    state = await turn(graph, "Hi")
    assert state["messages"][-1].content == "Hello after two failures."
    assert fake.settings.requests == 3, "two retries, then the answer"


async def test_a_lasting_fault_fails_clearly_and_the_next_turn_works(model_url: str) -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    fake.settings.failures = [500, 500, 500]
    with pytest.raises(ModelCallError) as failure:
        await turn(graph, "Hi")
    message = str(failure.value)
    assert f"the model server at {model_url} answered 500 (3 attempts)" in message
    assert fake.settings.requests == 3, "retries are bounded and not multiplied"

    # The failed turn's message stays in the thread; the next turn answers after it.
    state = await turn(graph, "Hello again")
    assert [m.type for m in state["messages"]] == ["human", "human", "ai"]
    assert [m.content for m in state["messages"][:2]] == ["Hi", "Hello again"]


async def test_unreachable_server_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    graph = build_graph().compile(checkpointer=InMemorySaver())
    with pytest.raises(ModelCallError, match=f"the model server at {url} could not be reached"):
        await turn(graph, "Hi")


async def streamed_turn(graph: Any, text: str, tokens: list[str]) -> None:
    """Run a turn the way the server streams it, collecting the reply's tokens."""
    config = {"configurable": {"thread_id": "t"}}
    async for chunk, _metadata in graph.astream(
        {"messages": [{"role": "user", "content": text}]},
        config,
        context=Context(model="fake"),
        stream_mode="messages",
    ):
        tokens.append(chunk.content)


@pytest.mark.parametrize(
    ("fault", "explained"),
    [
        ("cut", "dropped the connection in the middle of its reply"),
        ("error-event", "reported an error in the middle of its reply: scripted failure mid-reply"),
        ("stall", "stopped sending in the middle of its reply (read timeout)"),
    ],
)
async def test_a_fault_in_the_middle_of_a_streamed_reply(
    model_url: str, monkeypatch: pytest.MonkeyPatch, fault: str, explained: str
) -> None:
    monkeypatch.setenv("CHATBOT_MODEL_TIMEOUT", "0.5")
    fake.settings.hang_s = 2.0
    graph = build_graph().compile(checkpointer=InMemorySaver())
    fake.settings.failures = [fault]
    fake.settings.replies = ["One two three four", "Five six"]
    tokens: list[str] = []
    with pytest.raises(ModelCallError) as failure:
        await streamed_turn(graph, "Hi", tokens)
    assert "".join(tokens) == "One two", "the first half reached the user"
    assert f"the model server at {model_url} {explained}" in str(failure.value)
    assert "The partial reply was not saved; send the message again." in str(failure.value)
    assert fake.settings.requests == 1, "a reply already shown in part is not retried"

    # Only the user's message was kept; the next turn streams a whole reply after it.
    tokens.clear()
    await streamed_turn(graph, "Again", tokens)
    assert "".join(tokens) == "Five six"
    state = await graph.aget_state({"configurable": {"thread_id": "t"}})
    assert [(m.type, m.content) for m in state.values["messages"]] == [
        ("human", "Hi"),
        ("human", "Again"),
        ("ai", "Five six"),
    ]


async def test_a_waited_on_turn_streams_from_the_model_too(model_url: str) -> None:
    # Had the client asked for a plain reply, the cut would have been retried and
    # answered; streamed, it fails after one request like a streamed run does.
    graph = build_graph().compile(checkpointer=InMemorySaver())
    fake.settings.failures = ["cut"]
    fake.settings.replies = ["One two three four"]
    with pytest.raises(ModelCallError, match="dropped the connection in the middle of its reply"):
        await turn(graph, "Hi")
    assert fake.settings.requests == 1


async def test_embedded_reply_cap_is_sent_as_max_tokens(embedded_url: str) -> None:
    # llama-cpp-python's server reads `max_tokens` and ignores `max_completion_tokens`.
    await turn(build_graph().compile(checkpointer=InMemorySaver()), "Hi")
    # The cap is the setting's, within what the served context leaves beside the prompt.
    served_room = fake.SERVED_FORMAT["n_ctx"] - Context().max_history_tokens
    expected = min(settings.MAX_REPLY_TOKENS.get(), served_room)
    assert fake.settings.last_request["max_tokens"] == expected
    assert "max_completion_tokens" not in fake.settings.last_request


async def test_other_servers_get_no_reply_cap(model_url: str) -> None:
    await turn(build_graph().compile(checkpointer=InMemorySaver()), "Hi")
    assert fake.settings.last_request["model"] == "fake"
    assert not {"max_tokens", "max_completion_tokens"} & set(fake.settings.last_request)


def test_a_request_that_waited_across_a_reset_takes_nothing_from_the_next_script(
    model_url: str,
) -> None:
    """A scripted delay outliving its test (a dev server killed mid-turn) must not take the
    next test's reply: that stole replies in CI, one test's turns answered out of order."""
    asked = {"model": "x", "messages": [{"role": "user", "content": "late"}]}
    fake.settings.delay_s = 3.0
    with ThreadPoolExecutor(max_workers=1) as pool:
        late = pool.submit(httpx.post, f"{model_url}/chat/completions", json=asked, timeout=30)
        while fake.settings.requests == 0 and not late.done():
            time.sleep(0.01)
        fake.settings.reset()  # the next test's script, while the late request still waits
        fake.settings.replies = ["For the next test."]
        refused = late.result()
    assert refused.status_code == 503 and "ended while it waited" in refused.text
    answered = httpx.post(f"{model_url}/chat/completions", json=asked, timeout=30)
    assert answered.json()["choices"][0]["message"]["content"] == "For the next test."
