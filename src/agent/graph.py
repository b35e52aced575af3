"""The chatbot graph: fold old turns into the running summary when needed, then answer.

The thread's ``messages`` always keep the whole transcript; the summary and
the token budget decide only what the model is shown.

``builder`` is deliberately left uncompiled: the LangGraph server compiles it
with its own checkpointer, which is what gives every thread its memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AnyMessage,
    BaseMessage,
    BaseMessageChunk,
    HumanMessage,
    SystemMessage,
    message_chunk_to_message,
)
from langchain_core.runnables import Runnable
from langgraph.constants import TAG_NOSTREAM
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime

from agent.conversation.context import Context
from agent.conversation.prompt import (
    TokenCounter,
    build_prompt,
    message_text,
    render_system_prompt,
)
from agent.conversation.prompts import DEFAULT_LANGUAGE
from agent.conversation.state import InputState, State
from agent.conversation.summary import (
    bound_summary,
    fold_chunks,
    needs_folding,
    split_for_folding,
    summarizer_prompt,
    unsummarized,
)
from agent.models.endpoint import (
    ModelCallError,
    describe,
    explain_failure,
    load_chat_model,
    named,
    resolve_endpoint,
)
from agent.models.token_count import counter_for_model

ModelLoader = Callable[[Context], BaseChatModel]
"""Returns the chat model for a run's context (swapped for a fake in unit tests)."""


def _system(state: State, context: Context) -> SystemMessage:
    language = state.get("language") or DEFAULT_LANGUAGE
    return render_system_prompt(context.system_prompt, language, state.get("summary", ""))


def _recent(state: State) -> list[AnyMessage]:
    """Return the messages the running summary does not cover yet."""
    return unsummarized(state["messages"], state.get("summarized_through"))


async def _ask(model: Runnable[Any, BaseMessage], prompt: list[BaseMessage]) -> BaseMessage:
    """Stream the model's reply; turn a client failure into a clear error.

    The reply is always requested as a stream, whether or not the run streams
    it on to its client, so the read timeout applies between tokens rather than
    to the whole reply, and a failure can be told apart by whether it struck
    before the reply began (retried by the client) or in its middle (not).
    """
    reply: BaseMessageChunk | None = None
    try:
        async for message in model.astream(prompt):
            chunk = cast(BaseMessageChunk, message)  # chat models stream chunks
            reply = chunk if reply is None else reply + chunk
    except openai.OpenAIError as error:
        raise explain_failure(error, resolve_endpoint(), mid_reply=reply is not None) from error
    if reply is None:
        raise ModelCallError(
            f"The chat model failed: {describe(resolve_endpoint())} sent no reply."
        )
    return message_chunk_to_message(reply)


def build_graph(
    model_loader: ModelLoader = load_chat_model, count: TokenCounter | None = None
) -> StateGraph[Any, Any, Any, Any]:
    """Return the uncompiled chatbot graph that calls the model ``model_loader`` gives.

    ``count`` fixes the token counter (tests); by default each step uses the
    one that matches the model in use (``agent.models.token_count``).
    """

    async def counter(messages: Sequence[BaseMessage]) -> TokenCounter:
        return count if count is not None else await counter_for_model(messages)

    async def summarize(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
        """Fold the oldest turns not yet summarized when the prompt would outgrow the budget.

        The summary absorbs them and the marker moves past them; when the prompt
        still fits (or the context turns summarizing off), nothing changes.
        """
        context = runtime.context or Context()
        budget = context.max_history_tokens
        system = _system(state, context)
        recent = _recent(state)
        tokens = await counter([system, *recent])
        if not context.summarize or not needs_folding(recent, system, budget, tokens):
            return {}
        older, _kept = split_for_folding(recent, budget, tokens)
        if not older or not older[-1].id:
            return {}
        summarizer = model_loader(await named(context)).with_config(tags=[TAG_NOSTREAM])
        summary = state.get("summary", "")
        for chunk in fold_chunks(older):
            reply = await _ask(summarizer, summarizer_prompt(summary, chunk, budget))
            summary = bound_summary(message_text(reply), budget, tokens)
        return {"summary": summary, "summarized_through": older[-1].id}

    async def call_model(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
        """Answer the newest message, in the thread's language, within the token budget."""
        context = runtime.context or Context()
        system = _system(state, context)
        recent = _recent(state)
        prompt = build_prompt(
            recent,
            system=system,
            max_tokens=context.max_history_tokens,
            count=await counter([system, *recent]),
        )
        if not any(isinstance(message, HumanMessage) for message in prompt):
            raise ValueError(
                "The newest message does not fit in the token budget "
                f"(max_history_tokens={context.max_history_tokens}): "
                "send a shorter message or raise max_history_tokens."
            )
        reply = await _ask(model_loader(await named(context)), prompt)
        return {"messages": [reply]}

    graph = StateGraph(State, input_schema=InputState, context_schema=Context)
    graph.add_node("summarize", summarize)
    graph.add_node("model", call_model)
    # Plain edges, no routing function: a fork written with update_state (RemoteGraph,
    # Studio) as "__start__" then runs on with no context needed to pick a path.
    graph.add_edge(START, "summarize")
    graph.add_edge("summarize", "model")
    return graph


builder = build_graph()
"""The graph ``langgraph.json`` declares, compiled by the server."""
