"""Diagnosis only, not a setting: shorten the in-memory queue's idle poll.

``bench.perf.floor`` puts this directory on a test server's ``PYTHONPATH`` to
show how much of the dev server's floor the poll is. It makes the 0.5 s
``asyncio.sleep`` in ``langgraph_runtime_inmem.ops.Runs.next`` last
``$BENCH_QUEUE_POLL_S`` seconds instead, and touches no other sleep.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

_POLL_S = float(os.environ.get("BENCH_QUEUE_POLL_S", "0.01"))
_sleep = asyncio.sleep


async def _poll_sleep(delay: float, result: Any = None) -> Any:
    if delay == 0.5:
        caller = sys._getframe(1).f_code
        if caller.co_name == "next" and caller.co_filename.endswith(
            os.path.join("langgraph_runtime_inmem", "ops.py")
        ):
            delay = _POLL_S
    return await _sleep(delay, result)


asyncio.sleep = _poll_sleep  # type: ignore[assignment]
