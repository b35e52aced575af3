"""Cost per turn of a long conversation: prompt tokens and the graph's own time.

Runs the production graph in process, on the product's SQLite checkpointer
(in a temporary directory, with its default turn window), with an instant
fake model for ``--turns`` turns and reports, at turns 10, 100 and 1,000, the
tokens sent to the model at that turn, the summaries (count and kilobytes) the
reply's store read returned, and the graph's own milliseconds per turn
(the whole turn: the model answers at once and its prompt's tokens are counted
afterwards; the median of the ten turns ending there). The summaries read do
not depend on the machine's load; the milliseconds do. The default budget is
one that ten turns fill, so turn 10 already shows a full prompt.
Flat cost means both ratios 1,000/10 stay near 1 (target <= 1.2).

    .venv/bin/python -m bench.long_conversation
    .venv/bin/python -m bench.long_conversation --no-summary   # trimming only, for contrast
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from typing import Any

from agent import LOCAL_USER
from agent.conversation import summaries
from agent.conversation.context import Context
from agent.conversation.prompt import count_tokens
from agent.graph import build_graph
from agent.storage.checkpointer import checkpointer
from agent.testing.fake_chat_model import RecordingChatModel
from agent.turn import THREADLESS_SUMMARIES

REPLY = "That sounds good, tell me more about it."

THREAD = "bench"

Figures = tuple[int, float, int, int]
"""A turn's prompt tokens, graph ms, summaries its reply read and their bytes."""


async def measure(turns: int, budget: int, summarize: bool) -> list[Figures]:
    """Return (prompt tokens, graph's own ms, summaries read, their bytes) for every turn."""
    model = RecordingChatModel(reply=lambda _prompt: REPLY)
    config: Any = {"configurable": {"thread_id": THREAD}}
    context = Context(max_history_tokens=budget, summarize=summarize)
    results: list[Figures] = []
    with tempfile.TemporaryDirectory() as data_dir:
        os.environ["CHATBOT_DATA_DIR"] = data_dir
        async with checkpointer() as saver:
            graph = build_graph(lambda _context: model).compile(checkpointer=saver)
            for turn in range(1, turns + 1):
                results.append(await _turn(graph, model, turn, config, context))
    return results


async def _summaries_read() -> tuple[int, int]:
    """Return the summaries a reply's store read returns now, and their bytes (as JSON)."""
    read = summaries.latest_op(LOCAL_USER, THREAD)
    items = await THREADLESS_SUMMARIES.asearch(read.namespace_prefix, limit=read.limit)
    return len(items), sum(len(json.dumps(item.value)) for item in items)


async def _turn(
    graph: Any, model: RecordingChatModel, turn: int, config: Any, context: Context
) -> Figures:
    """Run one turn; return its prompt's tokens, the graph's own ms and the summaries read."""
    text = f"Turn {turn}: I went for a walk today and saw a few birds in the park."
    read, read_bytes = await _summaries_read() if context.summarize else (0, 0)
    started = time.perf_counter()
    await graph.ainvoke({"messages": [{"role": "user", "content": text}]}, config, context=context)
    elapsed = time.perf_counter() - started
    return count_tokens(model.prompts[-1]), elapsed * 1000, read, read_bytes


def main() -> None:
    """Run the benchmark and print the table and the ratio line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--budget", type=int, default=250, help="max_history_tokens")
    parser.add_argument("--no-summary", action="store_true")
    args = parser.parse_args()
    marks = [mark for mark in (10, 100, 1000) if mark <= args.turns]
    results = asyncio.run(measure(args.turns, args.budget, not args.no_summary))

    def window(mark: int) -> tuple[float, float]:
        recent = results[mark - 10 : mark]
        return results[mark - 1][0], statistics.median(figures[1] for figures in recent)

    print(f"budget={args.budget} tokens, summary={'off' if args.no_summary else 'on'}")
    print(
        f"{'turn':>6} | {'prompt tokens':>13} | {'summaries read':>14} | "
        f"{'KB read':>7} | {'graph ms/turn':>13}"
    )
    figures = {mark: window(mark) for mark in marks}
    for mark, (tokens, ms) in figures.items():
        _tokens, _ms, read, read_bytes = results[mark - 1]
        print(f"{mark:>6} | {tokens:>13.0f} | {read:>14} | {read_bytes / 1000:>7.1f} | {ms:>13.2f}")
    first, last = figures[marks[0]], figures[marks[-1]]
    print(f"ratios: prompt_tokens={last[0] / first[0]:.2f} graph_ms={last[1] / first[1]:.2f}")


if __name__ == "__main__":
    main()
