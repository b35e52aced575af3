"""Run input checks: every bad input is named, with what to send instead."""

from __future__ import annotations

import pytest

from agent.server.validation import InvalidInput, check_run_input


def turn(content: object = "Hi", role: str = "user", **extra: object) -> dict[str, object]:
    return {"messages": [{"role": role, "content": content}], **extra}


@pytest.mark.parametrize(
    "run_input",
    [
        None,
        turn(),
        turn(role="human"),
        turn([{"type": "text", "text": "Hi"}]),
        turn(language="Spanish"),
        turn(language="Chinese (Traditional)"),
        {"messages": [{"type": "human", "content": "LangChain spelling"}]},
    ],
)
def test_good_input_passes(run_input: object) -> None:
    check_run_input(run_input, limit=100)


@pytest.mark.parametrize(
    ("run_input", "message"),
    [
        ("Hi", "input must be an object"),
        ({}, "input.messages must be a non-empty list"),
        ({"messages": []}, "input.messages must be a non-empty list"),
        ({"messages": ["Hi"]}, r"input.messages\[0\] must be an object"),
        (turn(""), r"input.messages\[0\] is empty"),
        (turn(" \n\t "), r"input.messages\[0\] is empty"),
        (turn(42), "content must be text"),
        (turn([{"type": "image_url", "image_url": "x"}]), "content must be text"),
        (turn(role="system"), "role 'system' is not one this chatbot accepts"),
        (turn(role="tool"), "role 'tool' is not one this chatbot accepts"),
        (turn("x" * 101), "is 101 characters long; the limit is 100"),
        (turn(language=""), "input.language must be the name of a language"),
        (turn(language="x" * 41), "input.language must be the name of a language"),
        (turn(language=["en"]), "input.language must be the name of a language"),
        (turn(language="{system}"), "input.language must be the name of a language"),
    ],
)
def test_bad_input_says_what_was_wrong(run_input: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_run_input(run_input, limit=100)
