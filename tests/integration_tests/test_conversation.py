"""The seed scenario and streaming, against a real server and the embedded model."""

from __future__ import annotations

from langgraph_sdk.client import LangGraphClient

from .helpers import GRAPH_ID, contents, say, user


async def test_seed_scenario_remembers_within_a_thread_only(client: LangGraphClient) -> None:
    thread_a = (await client.threads.create())["thread_id"]
    thread_b = (await client.threads.create())["thread_id"]

    await say(client, thread_a, "Hi! I'm Bob")
    values_a = await say(client, thread_a, "What's my name?")
    values_b = await say(client, thread_b, "What's my name?")

    state_a = (await client.threads.get_state(thread_a))["values"]
    assert len(state_a["messages"]) == 4
    assert [m["type"] for m in state_a["messages"]] == ["human", "ai", "human", "ai"]
    assert contents(state_a)[0] == "Hi! I'm Bob"
    assert "bob" in contents(state_a)[3].lower(), f"the reply forgot the name: {contents(state_a)}"
    assert state_a == values_a

    state_b = (await client.threads.get_state(thread_b))["values"]
    assert len(state_b["messages"]) == 2
    assert state_b == values_b
    assert not set(m["id"] for m in state_a["messages"]) & set(m["id"] for m in state_b["messages"])
    assert contents(state_b)[0] == "What's my name?"
    assert "bob" not in " ".join(contents(state_b)).lower()


async def test_reply_streams_token_by_token(client: LangGraphClient) -> None:
    thread = (await client.threads.create())["thread_id"]
    chunks: list[str] = []
    async for part in client.runs.stream(
        thread, GRAPH_ID, input=user("What is the capital of France?"), stream_mode="messages-tuple"
    ):
        if part.event == "messages":
            message, metadata = part.data
            assert metadata["langgraph_node"] == "model"
            if message["content"]:
                chunks.append(message["content"])
    assert len(chunks) > 1, chunks
    state = (await client.threads.get_state(thread))["values"]
    assert contents(state)[-1] == "".join(chunks)
    assert "paris" in contents(state)[-1].lower()


async def test_language_persists_in_thread_state(client: LangGraphClient) -> None:
    thread = (await client.threads.create())["thread_id"]
    await say(client, thread, "Hello", language="Spanish")
    values = await say(client, thread, "How are you?")
    assert values["language"] == "Spanish"
    assert len(values["messages"]) == 4


async def test_studio_can_draw_the_graph_and_its_context_form(client: LangGraphClient) -> None:
    assistants = await client.assistants.search(graph_id=GRAPH_ID)
    assistant_id = assistants[0]["assistant_id"]

    graph = await client.assistants.get_graph(assistant_id)
    node_ids = {node["id"] for node in graph["nodes"]}
    assert {"__start__", "model"} <= node_ids

    schemas = await client.assistants.get_schemas(assistant_id)
    context = schemas["context_schema"]
    for name in ("model", "system_prompt", "temperature", "max_history_tokens"):
        assert context["properties"][name]["description"], name
    assert context["properties"]["model"]["default"] == "", "empty: the endpoint's own model"
    assert {"messages", "language", "summary"} <= set(schemas["state_schema"]["properties"])
    # Studio's input form: what a client may write, and nothing of the graph's own.
    assert set(schemas["input_schema"]["properties"]) == {"messages", "language"}
    assert "summary" in schemas["output_schema"]["properties"]
