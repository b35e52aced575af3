"""Memory across conversations: the graph with an in-memory store and a rule-following fake model.

The fake model answers the extraction prompt from a script keyed by the user's
message and every other prompt with "reply N"; the names come from a list
that appears in no prompt of the chatbot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.memory import InMemoryStore

from agent.conversation.context import Context
from agent.graph import build_graph
from agent.memory import extraction, keeper
from agent.memory.facts import MEMORY_HEADING, Fact, namespace


class MemoryFakeModel(BaseChatModel):
    """Answers extraction prompts from ``noted`` (by user message), others with "reply N"."""

    noted: dict[str, str] = {}
    prompts: list[list[BaseMessage]] = []
    fail_extraction: bool = False

    @property
    def _llm_type(self) -> str:
        return "memory-fake"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.prompts.append(list(messages))
        if messages[0].content == extraction.INSTRUCTIONS:
            if self.fail_extraction:
                raise RuntimeError("extraction model is down")
            said = str(messages[-1].content).removeprefix("Message: ")
            text = self.noted.get(said, "none")
        else:
            text = f"reply {sum(p[0].content != extraction.INSTRUCTIONS for p in self.prompts)}"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def chat_prompts(self) -> list[list[BaseMessage]]:
        return [p for p in self.prompts if p[0].content != extraction.INSTRUCTIONS]

    def extraction_prompts(self) -> list[list[BaseMessage]]:
        return [p for p in self.prompts if p[0].content == extraction.INSTRUCTIONS]


@pytest.fixture
def model() -> MemoryFakeModel:
    return MemoryFakeModel(noted={}, prompts=[])


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def graph(model: MemoryFakeModel, store: InMemoryStore) -> CompiledStateGraph[Any, Any, Any, Any]:
    return build_graph(lambda _context: model).compile(checkpointer=InMemorySaver(), store=store)


@pytest.fixture
def send(graph: CompiledStateGraph[Any, Any, Any, Any]) -> Callable[..., Any]:
    async def turn(
        thread: str,
        text: str,
        user: str = "u1",
        context: Context | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Any:
        config: Any = {
            "configurable": {"thread_id": thread, "langgraph_auth_user_id": user},
            "metadata": metadata or {},
        }
        payload = {"messages": [{"role": "user", "content": text}]}
        return await graph.ainvoke(payload, config, context=context or Context())

    return turn


def system_text(prompt: list[BaseMessage]) -> str:
    return str(prompt[0].content)


async def facts_of(store: InMemoryStore, user: str = "u1") -> dict[str, str]:
    return {fact.kind: fact.text for fact in await keeper.recall(store, user)}


async def test_a_new_thread_knows_what_the_user_said_in_another(send, model, store) -> None:
    said = "Hi! I'm Zanele and I live in Windhoek."
    model.noted = {said: "name: Zanele\nlocation: Windhoek"}
    await send("first", said)
    assert await facts_of(store) == {"name": "Zanele", "location": "Windhoek"}

    await send("second", "What's my name and where do I live?")
    system = system_text(model.chat_prompts()[-1])
    assert MEMORY_HEADING in system
    assert "The user's name is Zanele." in system and "The user lives in Windhoek." in system
    # The question states nothing about the user: no extraction call for it.
    assert len(model.extraction_prompts()) == 1


async def test_a_correction_replaces_the_old_fact(send, model, store) -> None:
    model.noted = {
        "I live in Windhoek.": "location: Windhoek",
        "Actually I moved to Swakopmund.": "location: Swakopmund",
    }
    await send("a", "I live in Windhoek.")
    await send("b", "Actually I moved to Swakopmund.")
    assert await facts_of(store) == {"location": "Swakopmund"}
    await send("c", "Where do I live?")
    system = system_text(model.chat_prompts()[-1])
    assert "Swakopmund" in system and "Windhoek" not in system


async def test_made_up_facts_are_not_saved(send, model, store) -> None:
    said = "I enjoy long walks."
    # A small model may copy the few-shot example or guess: none of it was said.
    model.noted = {said: "name: Tomasz\nlocation: Gdansk\nlikes: long walks\nplans: none"}
    await send("a", said)
    assert await facts_of(store) == {"likes": "long walks"}


async def test_memory_failure_never_fails_the_turn(send, model, store) -> None:
    model.fail_extraction = True
    values = await send("a", "I'm Zanele.")
    assert [m.content for m in values["messages"]] == ["I'm Zanele.", "reply 1"]
    assert await facts_of(store) == {}


async def test_users_never_see_each_others_memory(send, model, store) -> None:
    model.noted = {"I'm Zanele.": "name: Zanele", "I'm Ikaika.": "name: Ikaika"}
    await send("a", "I'm Zanele.", user="u1")
    await send("b", "I'm Ikaika.", user="u2")
    await send("c", "What's my name?", user="u2")
    system = system_text(model.chat_prompts()[-1])
    assert "Ikaika" in system and "Zanele" not in system
    assert await facts_of(store, "u1") == {"name": "Zanele"}


async def test_remember_off_neither_reads_nor_saves(send, model, store) -> None:
    model.noted = {"I'm Zanele.": "name: Zanele", "I'm Ikaika.": "name: Ikaika"}
    await send("a", "I'm Zanele.")
    await send("b", "I'm Ikaika.", context=Context(remember=False))
    assert MEMORY_HEADING not in system_text(model.chat_prompts()[-1])
    await send("c", "I'm Ikaika.", metadata={"remember": False})
    assert MEMORY_HEADING not in system_text(model.chat_prompts()[-1])
    assert await facts_of(store) == {"name": "Zanele"}
    assert len(model.extraction_prompts()) == 1


async def test_an_edited_message_takes_its_facts_with_it(graph, send, model, store) -> None:
    model.noted = {"I live in Windhoek.": "location: Windhoek", "I like tea.": "likes: tea"}
    await send("a", "Hello there.")
    await send("a", "I live in Windhoek.")
    assert await facts_of(store) == {"location": "Windhoek"}
    # Edit the second message: fork from the checkpoint before it, as agent-chat-ui does.
    config: Any = {"configurable": {"thread_id": "a", "langgraph_auth_user_id": "u1"}}
    history = [s async for s in graph.aget_state_history(config)]
    before = next(
        s for s in history if s.next == ("__start__",) and len(s.values.get("messages", [])) == 2
    )
    await graph.ainvoke(
        {"messages": [{"role": "user", "content": "I like tea."}]},
        before.config
        | {"configurable": {**before.config["configurable"], "langgraph_auth_user_id": "u1"}},
        context=Context(),
    )
    assert await facts_of(store) == {"likes": "tea"}


async def test_memory_stays_within_its_share_of_the_budget(send, model, store) -> None:
    long = "x " * 200
    await store.aput(namespace("u1"), "name", Fact("name", "Zanele").value())
    await store.aput(namespace("u1"), "likes", Fact("likes", long.strip()).value())
    await send("a", "Hello there.", context=Context(max_history_tokens=200))
    system = system_text(model.chat_prompts()[-1])
    assert "Zanele" in system and "x x x" not in system


def test_parse_keeps_only_known_kinds_and_grounded_values() -> None:
    said = "Hey, my name is Ana Lucía and I live in São Paulo; I love chess!"
    answer = (
        "- Name: Ana Lucía\n* city: São Paulo.\nlikes: chess\nlikes: tea\n"
        "age: 30\njob: doctor\nplans: none\nnonsense line"
    )
    facts = {f.kind: f.text for f in extraction.parse(answer, said)}
    assert facts == {"name": "Ana Lucía", "location": "São Paulo", "likes": "chess"}


def test_only_first_person_statements_are_sent_to_the_extractor() -> None:
    assert extraction.worth_asking("I'm Zanele.")
    assert extraction.worth_asking("Actually I moved to Swakopmund. Is it nice?")
    assert not extraction.worth_asking("What's my name?")
    assert not extraction.worth_asking("What is the capital of France?")
    assert not extraction.worth_asking("The weather is nice today.")


def test_a_value_is_filed_under_the_kind_its_clause_states() -> None:
    said = "Hi! I'm Zanele, I live in Windhoek and I love chess."
    # A small model copies its example's shape: "love chess" noted as a job.
    facts = {f.kind: f.text for f in extraction.parse("name: Zanele\njob: chess", said)}
    assert facts == {"name": "Zanele", "likes": "chess"}
    # A clause that states nothing about the user gives nothing.
    assert extraction.parse("likes: Windhoek", "Windhoek is far.") == []
    # "I don't like" is not a like.
    assert [f.kind for f in extraction.parse("likes: olives", "I don't like olives.")] == [
        "dislikes"
    ]


def test_a_name_must_be_written_as_a_name() -> None:
    assert extraction.parse("name: teacher", "I'm a teacher.") == []
    assert [f.text for f in extraction.parse("name: Zanele", "i'm Zanele")] == ["Zanele"]


async def test_the_extraction_reply_is_capped_short_on_the_embedded_model(embedded_url) -> None:
    from agent.models.endpoint import reply_cap, resolve_endpoint
    from agent.testing import scripted_model

    scripted_model.settings.replies = ["Nice to meet you!", "name: Zanele"]
    store = InMemoryStore()
    graph = build_graph().compile(checkpointer=InMemorySaver(), store=store)
    config: Any = {"configurable": {"thread_id": "a"}}
    await graph.ainvoke(
        {"messages": [{"role": "user", "content": "I'm Zanele."}]}, config, context=Context()
    )
    chat, extract = scripted_model.settings.bodies
    assert chat["max_tokens"] == reply_cap(resolve_endpoint(), Context())
    assert extract["max_tokens"] == 64
    assert extract["messages"][0]["content"] == extraction.INSTRUCTIONS
    assert await facts_of(store, "local") == {"name": "Zanele"}


def test_memory_names_are_in_no_prompt() -> None:
    """Recall tested with names a prompt holds would be the prompt's recall, not the user's."""
    import re
    from pathlib import Path

    from bench.memory_quality import PEOPLE

    source = Path(__file__).resolve().parents[2] / "src" / "agent"
    prompts = " ".join(
        path.read_text()
        for folder in ("conversation", "models", "memory")
        for path in (source / folder).rglob("*.py")
    ).casefold()
    used = {"Zanele", "Windhoek", "Swakopmund", "Ikaika", "Hilo", "Etosha", "rooibos"}
    used |= {word for name, home, moved, _hobby in PEOPLE for word in (name, home, moved)}
    found = {word for word in used if re.search(rf"\b{word.casefold()}\b", prompts)}
    assert not found, f"names used by tests or the bench appear in the chatbot's prompts: {found}"
