"""A new conversation is given what an earlier one said, through a real ``langgraph dev``.

On SQLite and PostgreSQL, with auth on (two users, bearer tokens) and the
scripted model: a recommendation the bot made in Korean and a date a French
user gave reach the prompt of a new conversation that asks about them, as the
turns just before the question; another user asking the same is given
nothing; a deleted conversation is never given again. The prompt is read from
the run's own events (``on_chat_model_start``). Whether a model answers from
it is a rate: ``make bench-recall``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent.server.tokens import create_token
from agent.testing import scripted_model
from agent.testing.dev_server import DevServer, dev_server_with_scripted_model

from .helpers import prompt_of_turn, say, until
from .test_search import module_postgres_uri  # noqa: F401 - a fixture used below

SECRET = "earlier-conversations-test-secret-long-enough"
DATED = re.compile(r"^\[\d{4}-\d\d-\d\d\] ")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DevServer]:
    env = {"CHATBOT_AUTH_SECRET": SECRET, "CHATBOT_REMEMBER": "true"}
    if request.param == "postgres":
        env["POSTGRES_URI"] = request.getfixturevalue("module_postgres_uri")
    workdir = tmp_path_factory.mktemp(f"earlier-{request.param}")
    with dev_server_with_scripted_model(workdir, **env) as (running, _url):
        yield running


@pytest.fixture(autouse=True)
def scripted() -> Iterator[None]:
    scripted_model.settings.reset()
    yield
    scripted_model.settings.reset()


def client_of(server: DevServer, user_id: str) -> LangGraphClient:
    token = create_token(user_id, SECRET)
    return get_client(url=server.url, api_key=None, headers={"Authorization": f"Bearer {token}"})


async def found_in(server: DevServer, user_id: str, words: str, thread_id: str) -> None:
    """Wait until the search index holds ``thread_id``'s message (written off the reply's path)."""
    token = create_token(user_id, SECRET)

    async def there() -> bool:
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            answer = await http.get("/chatbot/search", params={"q": words})
        return any(hit["thread_id"] == thread_id for hit in answer.json().get("hits", []))

    await until(there, f"{words!r} indexed in {thread_id}")


async def conversation(server: DevServer, user_id: str, text: str, reply: str) -> str:
    """A conversation of one exchange, kept searchable; return its thread id."""
    scripted_model.settings.replies = [reply]
    async with client_of(server, user_id) as client:
        thread_id = str((await client.threads.create())["thread_id"])
        await say(client, thread_id, text)
    await found_in(server, user_id, text.split()[0], thread_id)  # indexed off the reply's path
    return thread_id


async def asked_in_a_new_conversation(server: DevServer, user_id: str, text: str) -> list[str]:
    """Ask ``text`` in a new conversation; return the turns the prompt put before it."""
    async with client_of(server, user_id) as client:
        thread_id = str((await client.threads.create())["thread_id"])
        prompt = await prompt_of_turn(client, thread_id, text)
    assert prompt and str(prompt[-1]["content"]) == text, "the question is the prompt's last word"
    contents = [str(message["content"]) for message in prompt[:-1]]
    dated = [n for n, content in enumerate(contents) if DATED.match(content)]
    return contents[dated[0] :] if dated else []


async def test_what_an_earlier_conversation_said_reaches_a_new_one(server: DevServer) -> None:
    novel = await conversation(
        server, "alice", "읽을 만한 소설 하나 추천해 줄래요?", "『고요한 등대지기』를 추천해요."
    )
    await conversation(server, "alice", "Je pars à Banyuls le 14 avril.", "Bon voyage !")

    korean = await asked_in_a_new_conversation(server, "alice", "저번에 추천해 준 소설이 뭐였죠?")
    assert korean[-1] == "『고요한 등대지기』를 추천해요."
    assert korean[-2].endswith("읽을 만한 소설 하나 추천해 줄래요?")
    assert not any("Banyuls" in turn for turn in korean), "only what the question is about"

    french = await asked_in_a_new_conversation(
        server, "alice", "Quand est-ce que je pars à Banyuls ?"
    )
    assert french[-2].endswith("Je pars à Banyuls le 14 avril.") and french[-1] == "Bon voyage !"

    assert await asked_in_a_new_conversation(server, "alice", "Quelle heure est-il à Lima ?") == []
    assert (
        await asked_in_a_new_conversation(server, "bob", "저번에 추천해 준 소설이 뭐였죠?") == []
    ), "another user's conversations are never given"

    async with client_of(server, "alice") as client:
        await client.threads.delete(novel)
    gone = await asked_in_a_new_conversation(server, "alice", "저번에 추천해 준 소설이 뭐였죠?")
    assert not any("등대지기" in turn for turn in gone), "a deleted conversation is never given"
