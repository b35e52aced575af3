"""Does indexing for search delay the next reply? First tokens through ``langgraph dev``, no model.

A real ``langgraph dev`` on SQLite with the scripted model (instant replies,
so the server's own work is all there is to measure: the worst case for an
overhead in proportion), one thread, ``--turns`` ordinary turns sent the
moment the previous reply ends (the chores of one turn, indexing included,
run beside the next), first token through the SDK's token stream as the page
and the CLI read it. Prints the median and p95 of turns 2 on, and of each
run's execution as the server logs it (``run_exec_ms``: the turn's own work
and checkpoint writes, where a chore writing the same database would show;
the first token also holds the dev server's queue poll, about a second).

Compare two checkouts by putting the other's ``src`` first on ``PYTHONPATH``
(the server is started from that checkout)::

    .venv/bin/python -m bench.search_first_token
    git archive 172e7dc | tar -x -C /tmp/base
    PYTHONPATH=/tmp/base/src .venv/bin/python -m bench.search_first_token
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from langgraph_sdk import get_client

import agent
from agent.testing import scripted_model
from agent.testing.dev_server import dev_server_with_scripted_model
from bench.first_token import TALK, first_token_ms
from bench.perf.common import run_log_records
from bench.perf.stats import median, percentile


async def drive(url: str, turns: int) -> list[float]:
    """Run ``turns`` turns back to back on one thread; return each first token's ms."""
    client = get_client(url=url, api_key=None)
    thread = (await client.threads.create())["thread_id"]
    timings: list[float] = []
    for turn in range(turns):
        ms, _, _ = await first_token_ms(client, thread, f"{TALK[turn % len(TALK)]} ({turn})")
        timings.append(ms)
    return timings


def main() -> None:
    """Start the server, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=60)
    args = parser.parse_args()
    scripted_model.settings.word_delay_s = 0
    with (
        tempfile.TemporaryDirectory(prefix="search-first-token-") as workdir,
        dev_server_with_scripted_model(Path(workdir)) as (server, _url),
    ):
        timings = asyncio.run(drive(server.url, args.turns))[1:]
        records = run_log_records(server.log())
    executions = [float(r["run_exec_ms"]) for r in records if "run_exec_ms" in r][1:]
    print(
        f"code: {Path(agent.__file__).parent}; {len(timings)} ordinary turns: "
        f"first token p50 {median(timings):.1f} ms, p95 {percentile(timings, 95):.1f} ms; "
        f"run_exec_ms p50 {median(executions):.1f}, p95 {percentile(executions, 95):.1f}"
    )


if __name__ == "__main__":
    sys.exit(main())
