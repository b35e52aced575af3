"""How often the embedded model recalls a name after 40 turns of small talk.

Through a real ``langgraph dev`` server with the embedded model: "Hi! I'm Bob",
40 turns of small talk, then "What's my name?", with a token budget far
smaller than the whole conversation, so the name survives only through the
running summary. Repeated ``--runs`` times on fresh threads; prints each
summary and reply, then how often the summary kept the name and how often
the reply used it.

    .venv/bin/python -m bench.recall --runs 10
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from langchain_core.messages import HumanMessage
from langgraph_sdk import get_client

from agent.conversation.prompt import count_tokens
from agent.models.local.launcher import free_port
from agent.testing.dev_server import DevServer, write_config
from agent.testing.turns import SMALL_TALK


async def one_run(url: str, budget: int, turns: int) -> tuple[bool, str, str, int]:
    """Return (recalled, summary, reply, tokens of the whole conversation)."""
    client = get_client(url=url, api_key=None)
    thread = (await client.threads.create())["thread_id"]
    said = ["Hi! I'm Bob"] + [SMALL_TALK[n % len(SMALL_TALK)] for n in range(turns)]
    said.append("What's my name?")
    everything = []
    for text in said:
        values = await client.runs.wait(
            thread,
            "chatbot",
            input={"messages": [{"role": "user", "content": text}]},
            context={"max_history_tokens": budget},
        )
        assert isinstance(values, dict) and "__error__" not in values, values
        everything += [HumanMessage(text), HumanMessage(str(values["messages"][-1]["content"]))]
    reply = str(values["messages"][-1]["content"])
    return "bob" in reply.lower(), values.get("summary", ""), reply, count_tokens(everything)


async def main() -> None:
    """Run the scenario repeatedly and print the recall rate."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--budget", type=int, default=300)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="chatbot-recall-"))
    write_config(workdir)
    server = DevServer(workdir=workdir, port=free_port())
    server.start()
    recalled = kept = 0
    try:
        for run in range(1, args.runs + 1):
            ok, summary, reply, total = await one_run(server.url, args.budget, args.turns)
            recalled += ok
            kept += "bob" in summary.lower()
            print(f"run {run}: recalled={ok} reply={reply!r} summary={summary!r}", flush=True)
    finally:
        server.stop()
    print(f"conversation ~{total} tokens, budget {args.budget} tokens")
    print(f"name_in_summary: {kept}/{args.runs}")
    print(f"recall_rate: {recalled}/{args.runs}")


if __name__ == "__main__":
    asyncio.run(main())
