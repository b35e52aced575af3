"""A long conversation through the server and the embedded model: summary, bounded prompt."""

from __future__ import annotations

from langgraph_sdk.client import LangGraphClient

from .helpers import GRAPH_ID, SMALL_TALK, contents, user

BUDGET = 300


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
    # The thread keeps every message; the summary covers those up to its marker.
    assert contents(values)[::2] == [*said, "What's my name?"]
    assert contents(values)[-1] == "".join(chunks)
    marker = [m["id"] for m in values["messages"]].index(values["summarized_through"])
    assert 0 < marker < len(values["messages"]) - 2, "the oldest turns were folded"


async def test_embedded_model_counts_a_prompt_exactly_as_the_model_reads_it() -> None:
    import httpx
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
    from langchain_core.messages.utils import convert_to_openai_messages

    from agent.models.local.launcher import embedded_model_server
    from agent.models.local.tokenizer import approximate, model_tokenizer

    korean = "안녕하세요, 저는 민수입니다. 만나서 반갑습니다."
    prompt = [
        SystemMessage("You are a helpful assistant. Always answer in Korean."),
        HumanMessage(korean),
        AIMessage("반갑습니다, 민수 님!"),
        HumanMessage("What's my name?"),
    ]
    async with embedded_model_server() as base_url:
        tokenizer = model_tokenizer(base_url)
        await tokenizer.prepare(prompt)
        body = {"messages": convert_to_openai_messages(prompt), "max_tokens": 1}
        async with httpx.AsyncClient(timeout=120) as client:
            reply = (await client.post(f"{base_url}/chat/completions", json=body)).json()
    # The whole prompt, chat format included, as the model server itself counted it.
    assert tokenizer(prompt) == reply["usage"]["prompt_tokens"]
    assert tokenizer([HumanMessage(korean)]) != approximate(korean) + tokenizer.per_message
