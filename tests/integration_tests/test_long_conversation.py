"""A long conversation through the server and the embedded model: summary, bounded prompt."""

from __future__ import annotations

from langgraph_sdk.client import LangGraphClient

from .helpers import GRAPH_ID, contents, user

BUDGET = 300
SMALL_TALK = [
    "The weather is nice today.",
    "I like walking in the park.",
    "Do you like music?",
    "I had pasta for lunch.",
    "My favourite colour is blue.",
]


async def test_forty_turns_fold_into_a_summary_kept_in_thread_state(
    client: LangGraphClient,
) -> None:
    thread = (await client.threads.create())["thread_id"]
    context = {"max_history_tokens": BUDGET}
    said = ["Hi! I'm Bob"] + [SMALL_TALK[n % len(SMALL_TALK)] for n in range(40)]
    for text in said:
        result = await client.runs.wait(thread, GRAPH_ID, input=user(text), context=context)
        assert "__error__" not in result, result

    chunks: list[str] = []
    async for part in client.runs.stream(
        thread,
        GRAPH_ID,
        input=user("What's my name?"),
        context=context,
        stream_mode="messages-tuple",
    ):
        if part.event == "messages":
            message, metadata = part.data
            assert metadata["langgraph_node"] == "model", "the summarizer's tokens leaked"
            chunks.append(message["content"])

    values = (await client.threads.get_state(thread))["values"]
    assert values["summary"].strip(), "no summary was kept"
    # The thread holds the summary and only the newest turns, far fewer than were said.
    assert len(values["messages"]) < len(said)
    assert contents(values)[-2] == "What's my name?"
    assert contents(values)[-1] == "".join(chunks)
    assert "Hi! I'm Bob" not in contents(values)
