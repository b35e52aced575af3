"""The performance benchmark's pure parts: statistics, log parsing, the rendered table."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bench.perf import model_speed, report
from bench.perf.common import log_seconds, run_log_records
from bench.perf.stats import median, percentile, ratio


def test_percentiles_interpolate_between_ranks() -> None:
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert median([5.0]) == 5.0
    assert percentile([float(n) for n in range(1, 101)], 95) == pytest.approx(95.05)
    assert percentile([1.0, 2.0], 100) == 2.0
    assert math.isnan(median([]))


def test_ratio_is_undefined_without_a_reference() -> None:
    assert ratio(55.0, 68.75) == pytest.approx(0.8)
    assert math.isnan(ratio(1.0, 0.0))
    assert math.isnan(ratio(math.nan, 2.0))


def test_run_records_and_timings_are_read_from_a_colored_server_log() -> None:
    log = (
        "\x1b[2m2026-11-25T08:48:45Z\x1b[0m [info] \x1b[1mBackground run succeeded\x1b[0m "
        "\x1b[36mgraph_id\x1b[0m=\x1b[35mconstant\x1b[0m \x1b[36mrun_exec_ms\x1b[0m=\x1b[35m5\x1b[0m"
        " \x1b[36mrun_wait_time_ms\x1b[0m=\x1b[35m996\x1b[0m\n"
        "[info] Embedded model loaded and serving at http://127.0.0.1:1/v1 in 1.1 s (pid 7)\n"
    )
    [record] = run_log_records(log)
    assert record["graph_id"] == "constant"
    assert (record["run_exec_ms"], record["run_wait_time_ms"]) == ("5", "996")
    assert log_seconds(log, r"serving at \S+ in ([\d.]+) s") == 1.1
    assert math.isnan(log_seconds(log, r"Application started up in ([\d.]+)s"))


def _results() -> dict[str, Any]:
    rung = {"ttft_ms": 130.0, "tokens_per_s": 64.0, "tokens": 35.0, "tokens_per_s_ratio": 1.0}
    stack = {**rung, "ttft_ms": 950.0, "tokens_per_s": 55.0, "tokens_per_s_ratio": 55 / 64}
    stack.update(queue_ms=800.0, in_run_ttft_ms=150.0, ttft_ratio=7.3)
    return {
        "machine": {"date": "2026-11-25 09:00 UTC", "cpu": "AMD EPYC", "cores": 2},
        "wall_s": {"total": 250.0},
        "model_speed": {
            "rungs": {"direct": {**rung, "ttft_ratio": 1.0}, "stack": stack},
            "repeats": 5,
            "cap": 64,
            "temperature": 0.0,
            "same_text": True,
            "at_cap": True,
            "differing_rungs": [],
            "token_counts": [64],
        },
        "overhead": {
            "chatbot": {"turn_ms": 1017.0, "exec_ms": 16.0},
            "constant": {"turn_ms": 1010.0, "exec_ms": 8.0},
            "turn_ratio": 1017 / 1010,
            "exec_ratio": 2.0,
            "exec_extra_ms": 8.0,
        },
        "throughput": {
            "rows": [
                {"jobs": 1, "clients": 1, "turns_per_s": 1.0, "p50_ms": 1000.0, "p95_ms": 1010.0},
                {"jobs": 1, "clients": 64, "turns_per_s": 46.0, "p50_ms": 1248.0, "p95_ms": 1768.0},
            ]
        },
        "floor": {"error": "RuntimeError: langgraph dev exited early"},
    }


def test_table_shows_each_ratio_against_its_target() -> None:
    markdown = report.render_markdown(_results())
    rows = {line.split(" | ")[0].lstrip("| "): line for line in markdown.splitlines()}
    speed = rows["Embedded model tokens/s: whole stack vs llama_cpp in process"]
    assert "| 55.0 | 64.0 | 0.86 | >= 0.9: **not met** |" in speed
    turn = rows["Server time per turn (ms): chatbot, instant model vs constant graph"]
    assert "| 1,017 | 1,010 | 1.01 | <= 1.1: met |" in turn
    assert "| 950 (queue 800 + run 150) | 130 |" in markdown
    assert "| 46.0 (64 threads, --n-jobs-per-worker 1) | 1.0 | 46.0 |" in markdown
    assert "| --n-jobs-per-worker 1 | 1.0 (1,000 / 1,010) | 46.0 (1,248 / 1,768) |" in markdown
    assert "Measured 2026-11-25 09:00 UTC on AMD EPYC (2 cores" in markdown
    assert "`make bench` took 250 s" in markdown


def test_a_ratio_taken_while_other_programs_used_the_cpu_is_not_judged() -> None:
    results = _results()
    results["model_speed"]["rungs"]["stack"]["others_cores"] = 1.38
    markdown = report.render_markdown(results)
    assert "| 0.86 | >= 0.9: not comparable (other programs took 1.38 cores) |" in markdown
    results["model_speed"]["rungs"]["stack"]["others_cores"] = 0.1
    assert ">= 0.9: **not met**" in report.render_markdown(results)


def test_a_failed_measurement_is_reported_not_hidden() -> None:
    markdown = report.render_markdown(_results())
    assert "**floor failed:** RuntimeError: langgraph dev exited early" in markdown
    assert "Dev server floor per run" not in markdown


def test_the_report_says_whether_every_rung_generated_the_same_tokens() -> None:
    results = _results()
    assert "same tokens on every rung: yes, every reply the same 64 tokens" in (
        report.render_markdown(results)
    )
    results["model_speed"].update(
        same_text=False, at_cap=False, differing_rungs=["stack"], token_counts=[60, 64]
    )
    markdown = report.render_markdown(results)
    assert "same tokens on every rung: **NO**: text differs on stack" in markdown
    assert "replies of [60, 64] tokens, not all 64" in markdown


def _sample(text: str, tokens: int) -> dict[str, Any]:
    return {"text": text, "tokens": tokens}


def test_same_tokens_needs_one_text_cut_at_the_cap_on_every_rung() -> None:
    same = {
        "direct": [_sample("1\n2", 4), _sample("1\n2", 4)],
        "http": [_sample("1\n2", 4)],
    }
    assert model_speed.same_tokens(same, cap=4) == {
        "same_text": True,
        "at_cap": True,
        "differing_rungs": [],
        "token_counts": [4],
    }
    short = {**same, "stack": [_sample("1\n", 3)]}
    check = model_speed.same_tokens(short, cap=4)
    assert (check["same_text"], check["at_cap"]) == (False, False)
    assert check["differing_rungs"] == ["stack"]
    assert check["token_counts"] == [3, 4]
    assert model_speed.same_tokens({"direct": []}, cap=4)["same_text"] is False


REQUEST = {
    "model": "qwen",
    "messages": [{"role": "user", "content": "Count"}],
    "temperature": 0.0,
    "max_tokens": 64,
    "stream": True,
}
"""A chat completion request as the graph sends it to the model server."""


def test_same_request_compares_what_the_model_is_asked_not_the_client_extras() -> None:
    reference = REQUEST
    assert model_speed.same_request({**reference, "model": "other", "n": 1}, reference)
    assert not model_speed.same_request({**reference, "max_tokens": 512}, reference)
    other = [{"role": "user", "content": "Count\n\n(Answer in English.)"}]
    assert not model_speed.same_request({**reference, "messages": other}, reference)


def test_the_server_reads_the_reply_cap_the_graph_sends() -> None:
    pytest.importorskip("llama_cpp")
    payload = REQUEST
    kwargs = model_speed.server_kwargs(payload)
    assert (kwargs["max_tokens"], kwargs["temperature"], kwargs["stream"]) == (64, 0.0, True)
    assert model_speed.sent_cap(payload) == 64


def test_the_requests_bench_tells_a_refusal_a_loop_and_an_echo_in_any_script() -> None:
    from bench.requests import echoes, refuses, repeats

    assert refuses("I'm sorry, but I can't assist with that request.")
    assert refuses("죄송하지만 그 요청은 도와드릴 수 없어요.")
    assert not refuses("Il était une fois un phare au bout du monde.")
    story = "Il était une fois un gardien de phare. " * 6 + "« Désolé, mais je ne peux pas. »"
    assert not refuses(story), "a character's words further on are not the bot refusing"
    loop = "灯台の守り人は毎晩光をともしました。\n" * 2
    assert repeats(loop) and repeats("Der Sturm kam über das Meer herein. " * 3)
    assert not repeats("Mezcla la harina. Añade los huevos. Hornea veinte minutos.")
    assert echoes("오늘 저녁 메뉴 추천해 줄래요?", "오늘 저녁 메뉴 추천해 줄래요?")
    assert not echoes("Tonight: a lentil soup, then baked apples.", "Can you suggest a menu?")
