"""Render the benchmark's results as a markdown table and a PNG of plots."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bench.perf.stats import ratio

BUSY_CORES = 0.25
"""Above this many cores taken by other programs during a rung's replies, its ratio is not read."""

TOKENS_RATIO_TARGET = 0.9
"""Tokens/s through the stack must be at least this share of the direct figure."""

OVERHEAD_TARGET = 1.1
"""A chatbot turn may take at most this many times a constant graph's turn."""

RUNG_LABELS = {
    "direct": "llama_cpp in process",
    "http": "+ model server (raw HTTP)",
    "chat_openai": "+ ChatOpenAI",
    "graph": "+ chatbot graph (in process)",
    "stack": "+ langgraph dev + SDK (whole stack)",
}


def number(value: Any, digits: int = 0, unit: str = "") -> str:
    """Format a number for a table: fixed digits, a unit, "–" when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}{unit}"


def verdict(value: float, target: float, at_least: bool) -> str:
    """Say whether ``value`` meets ``target`` (at least, or at most, it)."""
    if math.isnan(value):
        return "–"
    met = value >= target if at_least else value <= target
    return "met" if met else "**not met**"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Return the lines of a markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def best_throughput(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the throughput row with the most turns per second."""
    return max(rows, key=lambda row: row["turns_per_s"])


def machine_line(results: dict[str, Any]) -> str:
    """Describe when, where and with what the figures were measured."""
    m = _section(results, "machine")
    packages = ", ".join(f"{name} {version}" for name, version in m.get("packages", {}).items())
    wall = _section(results, "wall_s").get("total")
    took = f"; `make bench` took {number(wall, 0, ' s')}" if wall is not None else ""
    if load := m.get("load"):
        took += f"; load average (1/5/15 min) {' / '.join(f'{x:.2f}' for x in load)} at start"
        if end := results.get("load_end"):
            took += f", {' / '.join(f'{x:.2f}' for x in end)} at the end"
    return (
        f"Measured {m.get('date', '?')} on {m.get('cpu', '?')} ({m.get('cores', '?')} cores, "
        f"{number(m.get('ram_gb'), 1)} GB RAM), Python {m.get('python', '?')}, {packages}, "
        f"commit {m.get('commit', '?')}{took}."
    )


def busy_note(*rungs: dict[str, Any]) -> str:
    """Say that the ratio of ``rungs`` cannot be read when other programs took the CPU."""
    busy = max((rung.get("others_cores", 0.0) or 0.0) for rung in rungs)
    if busy > BUSY_CORES:
        return f"not comparable (other programs took {busy:.2f} cores)"
    return ""


def same_tokens_note(speed: dict[str, Any]) -> str:
    """Say how the rungs were made comparable and whether they generated the same tokens."""
    cap = speed.get("cap")
    same = speed.get("same_text") and speed.get("at_cap")
    verdict_text = (
        f"yes, every reply the same {cap} tokens"
        if same
        else "**NO**: "
        + ", ".join(
            filter(
                None,
                [
                    f"text differs on {', '.join(speed.get('differing_rungs') or [])}"
                    if not speed.get("same_text")
                    else "",
                    f"replies of {speed.get('token_counts')} tokens, not all {cap}"
                    if not speed.get("at_cap")
                    else "",
                ],
            )
        )
    )
    return (
        f"(medians of {speed.get('repeats')} replies per rung after a warm-up round; "
        f"one prompt, temperature {speed.get('temperature')}, reply cap {cap} tokens on every "
        f"rung, the graph's own request; same tokens on every rung: {verdict_text})"
    )


def headline(results: dict[str, Any]) -> list[list[str]]:
    """Return the rows of the main table: each figure as a ratio measured in the same run."""
    rows: list[list[str]] = []
    floor_ms = _section(results, "floor").get("floor_ms", math.nan)
    if speed := _section(results, "model_speed").get("rungs"):
        stack, direct = speed["stack"], speed["direct"]
        rows.append(
            [
                "Embedded model tokens/s: whole stack vs llama_cpp in process",
                number(stack["tokens_per_s"], 1),
                number(direct["tokens_per_s"], 1),
                number(stack["tokens_per_s_ratio"], 2),
                f">= {TOKENS_RATIO_TARGET}: "
                + (
                    disturbed
                    if (disturbed := busy_note(stack, direct))
                    else verdict(stack["tokens_per_s_ratio"], TOKENS_RATIO_TARGET, at_least=True)
                ),
            ]
        )
        rows.append(
            [
                "Time to first token (ms): whole stack vs in process",
                f"{number(stack['ttft_ms'])} (queue {number(stack.get('queue_ms'))}"
                f" + run {number(stack.get('in_run_ttft_ms'))})",
                number(direct["ttft_ms"]),
                number(stack["ttft_ratio"], 1),
                f"run alone {number(ratio(stack.get('in_run_ttft_ms', math.nan), direct['ttft_ms']), 2)}"
                f"x; floor {number(floor_ms)} ms",
            ]
        )
    if overhead := _section(results, "overhead"):
        rows.append(
            [
                "Server time per turn (ms): chatbot, instant model vs constant graph",
                number(overhead["chatbot"]["turn_ms"]),
                number(overhead["constant"]["turn_ms"]),
                number(overhead["turn_ratio"], 2),
                f"<= {OVERHEAD_TARGET}: "
                + verdict(overhead["turn_ratio"], OVERHEAD_TARGET, at_least=False),
            ]
        )
        rows.append(
            [
                "Graph execution per turn (ms, server log): chatbot vs constant",
                number(overhead["chatbot"]["exec_ms"]),
                number(overhead["constant"]["exec_ms"]),
                number(overhead["exec_ratio"], 1),
                f"+{number(overhead['exec_extra_ms'])} ms a turn",
            ]
        )
    if throughput := _section(results, "throughput").get("rows"):
        best = best_throughput(throughput)
        single = next((r for r in throughput if r["clients"] == 1), throughput[0])
        rows.append(
            [
                "Throughput (turns/s): best vs one conversation",
                f"{number(best['turns_per_s'], 1)} ({best['clients']} threads, "
                f"--n-jobs-per-worker {best['jobs']})",
                number(single["turns_per_s"], 1),
                number(ratio(best["turns_per_s"], single["turns_per_s"]), 1),
                "",
            ]
        )
    if starts := _section(results, "cold_start").get("starts"):
        cold, warm = starts[0], starts[-1]
        rows.append(
            [
                "Start to first reply (s): cold vs warm",
                number(cold["total_s"], 1),
                number(warm["total_s"], 1),
                number(ratio(cold["total_s"], warm["total_s"]), 2),
                "",
            ]
        )
    floor = _section(results, "floor")
    if settings := floor.get("settings"):
        default = settings[0]
        patched = next((s for s in settings if s.get("diagnostic")), default)
        lowered = floor.get("lowered_by") or []
        rows.append(
            [
                "Dev server floor per run (ms): trivial graph, runs.wait",
                number(default["wait_ms"]),
                f"{number(patched['wait_ms'])} (poll patched)",
                number(ratio(default["wait_ms"], patched["wait_ms"]), 0),
                f"lowered by: {', '.join(lowered)}"
                if lowered
                else "no supported setting lowers it",
            ]
        )
    return rows


def render_markdown(results: dict[str, Any]) -> str:
    """Render every section present in ``results`` as markdown."""
    lines = [machine_line(results), ""]
    lines += table(["Figure", "Ours", "Reference", "Ratio", "Target / note"], headline(results))
    if transform := _section(results, "overhead").get("openai_transform_ms"):
        lines += [
            "",
            "Of the chatbot's extra execution, the OpenAI SDK's preparation of each request "
            "(`openai._utils._transform`, run on every `chat.completions.create`) takes "
            + ", ".join(
                f"{number(ms, 1)} ms at {count} messages" for count, ms in transform.items()
            )
            + ": it grows with the prompt, which `max_history_tokens` bounds.",
        ]
    if speed := _section(results, "model_speed"):
        lines += ["", "**Embedded model, layer by layer** " + same_tokens_note(speed), ""]
        lines += [""]
        rows = [
            [
                RUNG_LABELS.get(name, name),
                number(rung["ttft_ms"]),
                number(rung["tokens_per_s"], 1),
                number(rung["tokens_per_s_ratio"], 2),
                number(rung.get("others_cores"), 2),
            ]
            for name, rung in speed["rungs"].items()
        ]
        lines += table(
            ["Rung", "First token (ms)", "Tokens/s", "vs direct", "Others' CPU (cores)"], rows
        )
        lines += [
            "",
            "Others' CPU: what processes other than the benchmark's used while a reply was "
            "generated (median per rung). Another llama.cpp generating on the same two cores "
            "slows every rung several times over; compare rungs only where this is near 0.",
        ]
        sent, seen = speed.get("max_tokens_sent"), speed.get("max_tokens_seen_by_server")
        if sent != seen:
            lines += [
                "",
                f"The request carries a reply cap of {sent}, but llama-cpp-python's server "
                f"generates with `max_tokens={seen}`, so the embedded model's reply cap is "
                "not applied (the direct rung uses what the server uses).",
            ]
    if throughput := _section(results, "throughput").get("rows"):
        clients = sorted({row["clients"] for row in throughput})
        jobs = sorted({row["jobs"] for row in throughput})
        lines += ["", "**Throughput**, instant model: turns/s (p50 / p95 ms per turn)", ""]
        rows = []
        for setting in jobs:
            cells = [f"--n-jobs-per-worker {setting}"]
            for count in clients:
                row = next(
                    (r for r in throughput if r["jobs"] == setting and r["clients"] == count), None
                )
                cells.append(
                    f"{number(row['turns_per_s'], 1)} ({number(row['p50_ms'])} / "
                    f"{number(row['p95_ms'])})"
                    if row
                    else "–"
                )
            rows.append(cells)
        lines += table(["", *(f"threads: {count}" for count in clients)], rows)
    if starts := _section(results, "cold_start").get("starts"):
        lines += ["", "**Start**, `langgraph dev` with the embedded model, to the first token", ""]
        rows = [
            [
                start["label"],
                number(start["total_s"], 1),
                number(start["model_file_s"], 1),
                number(start["model_load_s"], 1),
                number(start["langgraph_s"], 1),
                f"{number(start['first_reply_s'], 1)} ({number(start['first_reply_queue_s'], 1)}"
                f" + {number(start['first_reply_run_s'], 1)})",
            ]
            for start in starts
        ]
        lines += table(
            [
                "Start",
                "Total (s)",
                "Model file",
                "Model load + serve",
                "langgraph (rest)",
                "First reply (queue + run)",
            ],
            rows,
        )
    if floor := _section(results, "floor"):
        lines += ["", "**Dev server floor**, trivial one-node graph, back-to-back turns (ms)", ""]
        rows = [
            [
                s["label"],
                number(s["wait_ms"]),
                number(s["stream_ms"]),
                number(s["queue_ms"]),
                number(s["exec_ms"]),
            ]
            for s in floor["settings"]
        ]
        lines += table(["Setting", "runs.wait", "runs.stream", "in queue", "executing"], rows)
        poll = floor["poll"]
        lines += [
            "",
            f"The poll: `{poll['code']}` in `{poll['where']}`; "
            + (
                "a literal, read from no setting or flag. "
                if not poll["configurable"]
                else "configurable. "
            )
            + (
                "The queue sleeps only when its last look found no run, and takes only runs "
                "created before the moment it started sleeping, so a turn sent right after the "
                "previous one waits for two polls (1.0 s)."
                if poll["cutoff_before_sleep"]
                else ""
            ),
        ]
    errors = {name: value["error"] for name, value in results.items() if _failed(value)}
    for name, error in errors.items():
        lines += ["", f"**{name} failed:** {error}"]
    return "\n".join(lines) + "\n"


def _section(results: dict[str, Any], name: str) -> dict[str, Any]:
    """Return a measurement's results, or an empty dict when it is missing or failed."""
    value = results.get(name)
    return value if isinstance(value, dict) and not _failed(value) else {}


def _failed(value: Any) -> bool:
    return isinstance(value, dict) and "error" in value


def render_png(results: dict[str, Any], path: Path) -> None:
    """Draw one panel per measurement into ``path`` (matplotlib, headless)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 3, figsize=(16, 9.5))
    panels = [_speed, _first_token, _overhead, _throughput, _start, _floor]
    for axis, draw in zip(axes.flat, panels, strict=True):
        try:
            draw(axis, results)
        except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError):
            axis.set_axis_off()
            axis.text(0.5, 0.5, "not measured", ha="center", va="center")
    m = _section(results, "machine")
    figure.suptitle(
        f"chatbot performance ({m.get('date', '?')}, {m.get('cpu', '?')}, "
        f"{m.get('cores', '?')} cores)",
        fontsize=14,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _labels(axis: Any, bars: Any, values: list[float], digits: int = 0, unit: str = "") -> None:
    for bar, value in zip(bars, values, strict=True):
        axis.annotate(
            number(value, digits, unit),
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=9,
        )


def _speed(axis: Any, results: dict[str, Any]) -> None:
    rungs = _section(results, "model_speed")["rungs"]
    names = list(rungs)
    values = [rungs[n]["tokens_per_s"] for n in names]
    colors = ["#4c72b0" if n == "direct" else "#55a868" for n in names]
    bars = axis.bar(range(len(names)), values, color=colors)
    _labels(axis, bars, values, 1)
    target = rungs["direct"]["tokens_per_s"] * TOKENS_RATIO_TARGET
    axis.axhline(
        target, color="#c44e52", linestyle="--", label=f"target: {TOKENS_RATIO_TARGET}x direct"
    )
    _label_rungs(axis, names, "tokens / s", "Embedded model speed, layer by layer", "lower left")


def _label_rungs(axis: Any, names: list[str], ylabel: str, title: str, legend: str) -> None:
    """Name the rungs under their bars, and title the plot."""
    axis.set_xticks(range(len(names)), [RUNG_LABELS[n].removeprefix("+ ") for n in names])
    axis.tick_params(axis="x", labelrotation=20, labelsize=8)
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.legend(loc=legend, fontsize=8)


def _first_token(axis: Any, results: dict[str, Any]) -> None:
    rungs = _section(results, "model_speed")["rungs"]
    names = list(rungs)
    queue = [rungs[n].get("queue_ms", 0.0) for n in names]
    own = [rungs[n]["ttft_ms"] - q for n, q in zip(names, queue, strict=True)]
    axis.bar(range(len(names)), own, color="#55a868", label="model + our code")
    bars = axis.bar(range(len(names)), queue, bottom=own, color="#dd8452", label="server queue")
    for bar, total in zip(bars, [rungs[n]["ttft_ms"] for n in names], strict=True):
        axis.annotate(
            number(total, 0, " ms"),
            (bar.get_x() + bar.get_width() / 2, total),
            ha="center",
            va="bottom",
            fontsize=9,
        )
    if floor := _section(results, "floor").get("floor_ms"):
        axis.axhline(floor, color="#8172b2", linestyle=":", label="dev server floor per run")
    _label_rungs(axis, names, "ms to first token", "Time to first token", "upper left")


def _overhead(axis: Any, results: dict[str, Any]) -> None:
    overhead = _section(results, "overhead")
    names = ["constant", "chatbot"]
    executing = [overhead[n]["exec_ms"] for n in names]
    rest = [overhead[n]["turn_ms"] - e for n, e in zip(names, executing, strict=True)]
    axis.barh(names, rest, color="#dd8452", label="queue + HTTP (server)")
    axis.barh(names, executing, left=rest, color="#55a868", label="graph executing")
    for index, name in enumerate(names):
        axis.annotate(
            f"{number(overhead[name]['turn_ms'])} ms (graph {number(executing[index])} ms)",
            (overhead[name]["turn_ms"], index),
            xytext=(-5, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=9,
            color="white",
        )
    axis.set_xlabel("ms per turn (runs.wait, median)")
    axis.set_title(
        f"Server time per turn: ratio {number(overhead['turn_ratio'], 2)} "
        f"(target <= {OVERHEAD_TARGET})"
    )
    axis.legend(loc="lower left", fontsize=8)


def _throughput(axis: Any, results: dict[str, Any]) -> None:
    rows = _section(results, "throughput")["rows"]
    for setting in sorted({row["jobs"] for row in rows}):
        mine = sorted((r for r in rows if r["jobs"] == setting), key=lambda r: r["clients"])
        axis.plot(
            [r["clients"] for r in mine],
            [r["turns_per_s"] for r in mine],
            marker="o",
            label=f"--n-jobs-per-worker {setting}",
        )
    axis.set_xscale("log", base=2)
    axis.set_xticks(sorted({row["clients"] for row in rows}))
    axis.get_xaxis().set_major_formatter("{x:.0f}")
    axis.set_xlabel("concurrent threads")
    axis.set_ylabel("turns / s")
    axis.set_title("Throughput, instant model")
    axis.legend(fontsize=8)


def _start(axis: Any, results: dict[str, Any]) -> None:
    starts = _section(results, "cold_start")["starts"]
    phases = [
        ("model_file_s", "model file", "#8172b2"),
        ("model_load_s", "model load + serve", "#4c72b0"),
        ("langgraph_s", "langgraph (rest)", "#dd8452"),
        ("first_reply_s", "first reply", "#55a868"),
    ]
    labels = [start["label"].split(" (")[0] for start in starts]
    left = [0.0] * len(starts)
    for key, label, color in phases:
        widths = [start[key] for start in starts]
        axis.barh(labels, widths, left=left, color=color, label=label)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for index, start in enumerate(starts):
        axis.annotate(
            number(start["total_s"], 1, " s"),
            (start["total_s"], index),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
        )
    axis.set_xlim(0, max(left) * 1.6)
    axis.set_xlabel("seconds from `langgraph dev` to the first reply token")
    axis.set_title("Start to first reply")
    axis.legend(loc="center right", fontsize=8)


def _floor(axis: Any, results: dict[str, Any]) -> None:
    settings = _section(results, "floor")["settings"]
    labels = [s.get("short", s["label"]) for s in settings]
    values = [s["wait_ms"] for s in settings]
    bars = axis.bar(
        range(len(settings)), values, color=["#4c72b0"] * (len(settings) - 1) + ["#c44e52"]
    )
    _labels(axis, bars, values, 0, " ms")
    axis.set_xticks(range(len(settings)), labels, fontsize=9)
    axis.set_ylabel("ms per run (runs.wait, median)")
    axis.set_title("Dev server floor: trivial graph")
