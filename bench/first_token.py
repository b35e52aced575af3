"""First-token time of the embedded model as one thread grows: turns 1, 10, 40 and after a fold.

The real graph runs in this process, streaming from the embedded model server
the LangGraph server would start, on one thread with the default budget.
llama.cpp reuses the longest common prefix of the prompt it read last, so a
turn should pay only for what is new; a summary fold rewrites the prompt's
start (the system prompt holds the summary), so the turn right after a fold
reads its prompt cold. Prints each measured turn's prompt tokens and first
token time, then ``first_token_ms: turn1=... turn10=... turn40=... after_fold=...``.

    .venv/bin/python -m bench.first_token
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from agent import settings
from agent.conversation.context import Context
from agent.graph import build_graph
from agent.models.local.launcher import embedded_model_server

TURNS = (1, 10, 40)

TALK = [
    "Tell me one fact about the ocean.",
    "What is a good name for a goldfish?",
    "Suggest a quick breakfast.",
    "What is 12 times 12?",
    "Name a famous painter.",
    "Give me a word that means happy.",
]


async def first_token_ms(graph: Any, config: Any, context: Context, text: str) -> float:
    """Send one message; return the milliseconds until the first reply token streamed."""
    started = time.perf_counter()
    first: float | None = None
    async for chunk, metadata in graph.astream(
        {"messages": [{"role": "user", "content": text}]},
        config,
        context=context,
        stream_mode="messages",
    ):
        if first is None and metadata.get("langgraph_node") == "model" and chunk.content:
            first = time.perf_counter() - started
    assert first is not None, "no reply token streamed"
    return first * 1000


async def main() -> None:
    """Drive one thread to the last measured turn and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=int, default=Context().max_history_tokens)
    args = parser.parse_args()
    context = Context(max_history_tokens=args.budget)
    figures: dict[str, float] = {}
    async with embedded_model_server() as base_url:
        settings.set_local_model_url(base_url)
        graph = build_graph().compile(checkpointer=InMemorySaver())
        config: Any = {"configurable": {"thread_id": "first-token"}}
        for turn in range(1, max(TURNS) + 1):
            before = (await graph.aget_state(config)).values.get("summarized_through")
            ms = await first_token_ms(graph, config, context, TALK[turn % len(TALK)])
            after = (await graph.aget_state(config)).values
            folded = after.get("summarized_through") != before
            labels = [f"turn{turn}"] if turn in TURNS else []
            if folded and "after_fold" not in figures:
                labels.append("after_fold")
            for label in labels:
                figures[label] = ms
            if labels:
                print(
                    f"turn {turn:>3}: first token {ms:7.0f} ms, "
                    f"{len(after['messages'])} messages stored, folded this turn: {folded}",
                    flush=True,
                )
    print("first_token_ms: " + " ".join(f"{name}={ms:.0f}" for name, ms in figures.items()))


if __name__ == "__main__":
    asyncio.run(main())
