"""The ``direct`` rung's model: llama_cpp in a process of its own, no HTTP.

``bench.perf.model_speed`` starts ``python -m bench.perf.direct_worker``, which
loads the model as the embedded server does (``model_speed.load_direct``),
then reads one request body (JSON) per line on stdin and answers each with
one line of JSON on stdout: the reply's text, its token ids, and when its
first and last pieces arrived. It generates from a worker thread, as the
server does.

A process of its own, like the model server, rather than the benchmark's:
the reference then shares its process with nothing of the benchmark's (event
loop, HTTP clients, the in-process graph). On a loaded machine it is still
the rung that suffers most from other programs (most likely because
llama.cpp's OpenMP threads spin at every barrier when they own the cores):
read it with the CPU others took, which every sample records.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from bench.perf.model_speed import direct_sample, load_direct


def main() -> None:
    """Load the model, say so, then answer one request per line until stdin closes."""
    llm = load_direct()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        payload = json.loads(line)
        result: dict[str, Any] = {}

        def generate(payload: dict[str, Any] = payload, result: dict[str, Any] = result) -> None:
            result.update(direct_sample(llm, payload))
            result["token_ids"] = llm.tokenize(result["text"].encode(), add_bos=False)

        started = time.perf_counter()
        worker = threading.Thread(target=generate)
        worker.start()
        worker.join()
        result["wall_s"] = time.perf_counter() - started
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
