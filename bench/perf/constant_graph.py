"""A one-node graph that answers every message with a constant: the server's own cost.

Served beside the chatbot graph (``bench.perf.overhead``) and alone on a bare
server (``bench.perf.floor``), so what it takes per run is the LangGraph dev
server's work and nothing of ours.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langgraph.graph import START, MessagesState, StateGraph

REPLY = "Sure, noted."
"""The constant reply (the same text the instant fake model gives)."""


async def answer(state: MessagesState) -> dict[str, Any]:
    """Reply with the constant, whatever was said."""
    return {"messages": [AIMessage(content=REPLY)]}


builder = StateGraph(MessagesState)
builder.add_node("answer", answer)
builder.add_edge(START, "answer")
"""Left uncompiled, like the chatbot's: the server compiles it with its checkpointer."""
