"""The chatbot graph: one model node over a thread's messages.

``builder`` is deliberately left uncompiled: the LangGraph server compiles it
with its own checkpointer, which is what gives every thread its memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime

from agent.context import Context
from agent.history import build_prompt, render_system_prompt
from agent.model import load_chat_model
from agent.prompts import DEFAULT_LANGUAGE
from agent.state import State

ModelLoader = Callable[[Context], BaseChatModel]
"""Returns the chat model for a run's context (swapped for a fake in unit tests)."""


def build_graph(model_loader: ModelLoader = load_chat_model) -> StateGraph[Any, Any, Any, Any]:
    """Return the uncompiled chatbot graph that calls the model ``model_loader`` gives."""

    async def call_model(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
        """Answer the newest message, in the thread's language, within the token budget."""
        context = runtime.context or Context()
        language = state.get("language") or DEFAULT_LANGUAGE
        system = render_system_prompt(context.system_prompt, language)
        prompt = build_prompt(
            state["messages"], system=system, max_tokens=context.max_history_tokens
        )
        if not any(isinstance(message, HumanMessage) for message in prompt):
            raise ValueError(
                "The newest message does not fit in the token budget "
                f"(max_history_tokens={context.max_history_tokens}): "
                "send a shorter message or raise max_history_tokens."
            )
        reply = await model_loader(context).ainvoke(prompt)
        return {"messages": [reply]}

    graph = StateGraph(State, context_schema=Context)
    graph.add_node("model", call_model)
    graph.add_edge(START, "model")
    return graph


builder = build_graph()
"""The graph ``langgraph.json`` declares, compiled by the server."""
