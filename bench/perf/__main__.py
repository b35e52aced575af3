"""Run every performance measurement in one go and write the results.

    .venv/bin/python -m bench.perf            # everything (make bench), about 5 minutes
    .venv/bin/python -m bench.perf --quick    # fewer repetitions, for a check
    .venv/bin/python -m bench.perf --only floor overhead --out /tmp/perf

Writes ``latest.json`` (every raw number), ``latest.md`` (the tables) and
``latest.png`` (the plots) into ``bench/results/``, then prints the tables.
The measurements run one after the other, never at the same time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.perf import cold_start, floor, model_speed, overhead, report, throughput
from bench.perf.common import PROJECT_ROOT, machine

RESULTS_DIR = PROJECT_ROOT / "bench" / "results"

Section = Callable[[bool], Awaitable[dict[str, Any]]]

SECTIONS: dict[str, Section] = {
    "floor": lambda quick: floor.measure(runs=3 if quick else 5),
    "overhead": lambda quick: overhead.measure(turns=4 if quick else 12),
    "throughput": lambda quick: throughput.measure(jobs=(1, 10) if quick else throughput.JOBS),
    "model_speed": lambda quick: model_speed.measure(repeats=1 if quick else 4),
    "cold_start": lambda quick: cold_start.measure(),
}
"""Measurements in the order they run."""


def _clean(value: Any) -> Any:
    """Make ``value`` valid JSON: NaN becomes null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


async def run(names: list[str], quick: bool) -> dict[str, Any]:
    """Run the named sections in order; a failing section is recorded, not fatal."""
    results: dict[str, Any] = {"machine": machine(), "quick": quick, "wall_s": {}}
    started = time.perf_counter()
    for name in names:
        print(f"[bench.perf] {name} ...", file=sys.stderr, flush=True)
        section_started = time.perf_counter()
        try:
            results[name] = await SECTIONS[name](quick)
        except Exception as error:  # keep the other figures; report this one's failure
            traceback.print_exc()
            results[name] = {"error": f"{type(error).__name__}: {error}"}
        results["wall_s"][name] = round(time.perf_counter() - section_started, 1)
        print(f"[bench.perf] {name}: {results['wall_s'][name]} s", file=sys.stderr, flush=True)
    results["wall_s"]["total"] = round(time.perf_counter() - started, 1)
    results["load_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def write(results: dict[str, Any], out: Path) -> str:
    """Write the three result files into ``out``; return the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(_clean(results), indent=1) + "\n")
    markdown = report.render_markdown(results)
    (out / "latest.md").write_text(markdown)
    report.render_png(results, out / "latest.png")
    return markdown


def main() -> None:
    """Parse the command line, measure, write and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="where to write")
    args = parser.parse_args()
    results = asyncio.run(run(args.only, args.quick))
    print(write(results, args.out))
    print(f"Results in {args.out}/latest.{{md,png,json}}")
    if any(isinstance(value, dict) and "error" in value for value in results.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
