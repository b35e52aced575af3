"""Does the default model remember? Recall, summary recall, reply language, first person.

The real graph (prompts, token budget, summary, token counting) runs in this
process against the embedded model server the LangGraph server would start
(or ``CHATBOT_MODEL_FILE``'s model), temperature 0, one fresh thread per case:

* **recall**: 20 people each say their name, city and one fact in their first
  message; the bot is asked for one of them 1, 3 and 8 turns later (small talk
  in between), rotating which one is asked.
* **summary recall**: 10 people state a fact, then talk until the token budget
  folds that turn into the running summary (checked: the marker is past it);
  then they ask for the fact.
* **language**: threads set to French, Spanish, German, Japanese and Korean; the
  user writes English; is the reply in the thread's language?
* **first person**: of the recall replies that hold the fact, how many speak of
  it as the bot's own ("My name is Carla") rather than the user's.

No name, place or fact here appears in any prompt of the chatbot or in its
tests. Prints a table and, last, ``recall=... summary_recall=... language=...
first_person=...``.

    .venv/bin/python -m bench.quality            # about 10 minutes on 2 cores
    .venv/bin/python -m bench.quality --quick    # a quarter of the cases
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from agent import settings
from agent.conversation.context import Context
from agent.graph import build_graph
from agent.housekeeping import drained
from agent.models.local.launcher import embedded_model_server
from agent.testing.languages import folded, language_of


@dataclass(frozen=True)
class Person:
    """Someone who tells the bot about themselves."""

    name: str
    city: str
    fact_said: str
    fact_question: str
    fact_answer: str


PEOPLE = [
    Person("Oyelaran", "Ibadan", "my dog is called Biscotti", "What is my dog called?", "Biscotti"),
    Person("Thandiwe", "Bulawayo", "I play the bassoon", "Which instrument do I play?", "bassoon"),
    Person("Radovan", "Brno", "my sister is named Ludmila", "What is my sister's name?", "Ludmila"),
    Person("Ingrid", "Tromsø", "I drive a green Volvo", "What colour is my car?", "green"),
    Person(
        "Kwabena", "Kumasi", "my favourite fruit is papaya", "What is my favourite fruit?", "papaya"
    ),
    Person("Mireille", "Nantes", "I collect old maps", "What do I collect?", "maps"),
    Person("Tadashi", "Sendai", "my cat is called Mochi", "What is my cat called?", "Mochi"),
    Person("Ximena", "Oaxaca", "I work as a pharmacist", "What is my job?", "pharmacist"),
    Person("Eilidh", "Inverness", "my boat is named Selkie", "What is my boat called?", "Selkie"),
    Person("Bartosz", "Gdańsk", "I was born in 1987", "In which year was I born?", "1987"),
    Person("Nnamdi", "Enugu", "my son is called Chidubem", "What is my son's name?", "Chidubem"),
    Person("Saoirse", "Galway", "I grow tomatoes", "What do I grow?", "tomatoes"),
    Person("Vikram", "Mysuru", "my parrot is named Kiwi", "What is my parrot's name?", "Kiwi"),
    Person("Henrike", "Lübeck", "I teach chemistry", "What subject do I teach?", "chemistry"),
    Person("Anselmo", "Cusco", "my horse is called Trueno", "What is my horse called?", "Trueno"),
    Person("Liesbeth", "Utrecht", "I speak Frisian", "Which language do I speak?", "Frisian"),
    Person("Kalani", "Hilo", "my bakery is called Lehua", "What is my bakery called?", "Lehua"),
    Person("Dragana", "Niš", "I run marathons", "What kind of race do I run?", "marathon"),
    Person("Oisín", "Sligo", "my guitar is named Rosie", "What is my guitar's name?", "Rosie"),
    Person("Yevgenia", "Tomsk", "I keep bees", "What animals do I keep?", "bees"),
]
"""Fixed people, places and facts that appear in no prompt or test of the chatbot."""

SMALL_TALK = [
    "What is 7 times 6?",
    "Name a colour of the rainbow.",
    "What is the opposite of cold?",
    "How many legs does a spider have?",
    "What is 15 minus 9?",
    "Give me a word that rhymes with moon.",
    "What is the capital of Canada?",
]
"""Turns in between, with short answers."""

DISTANCES = (1, 3, 8)
"""Turns between the user's statement and the question."""

LANGUAGE_QUESTIONS = [
    "What is the capital of Italy?",
    "Give me one tip for sleeping well.",
    "Why is the sky blue? Answer in one sentence.",
    "What do people usually eat for breakfast?",
]
"""English questions asked in threads set to another language."""

LANGUAGES = ("French", "Spanish", "German", "Japanese", "Korean")

FIRST_PERSON = re.compile(r"\b(my|i|i'm|i am|me|mine)\b", re.IGNORECASE)
SECOND_PERSON = re.compile(r"\b(your|you|you're|you are|yours)\b", re.IGNORECASE)


def holds(reply: str, answer: str) -> bool:
    """Tell whether ``reply`` contains ``answer`` (case and accents ignored)."""
    return folded(answer) in folded(reply)


def speaks_as_own(reply: str, answer: str) -> bool:
    """Tell whether the sentence that holds ``answer`` speaks of it in the first person."""
    for sentence in re.split(r"(?<=[.!?])\s+", reply):
        if holds(sentence, answer):
            return bool(FIRST_PERSON.search(sentence)) and not SECOND_PERSON.search(sentence)
    return False


class Conversation:
    """One thread of the real graph, in process."""

    def __init__(self, graph: Any, thread: str, context: Context, language: str | None = None):
        """Talk on ``thread`` with ``context``; ``language`` is set on the first turn."""
        self.graph, self.context, self.language = graph, context, language
        self.config: Any = {"configurable": {"thread_id": thread}}
        self.state: dict[str, Any] = {}

    async def say(self, text: str) -> str:
        """Send one message; return the reply."""
        turn: dict[str, Any] = {"messages": [{"role": "user", "content": text}]}
        if self.language:
            turn["language"] = self.language
        self.state = await self.graph.ainvoke(turn, self.config, context=self.context)
        await drained()  # the fold this turn made due runs after the reply: let it finish
        return str(self.state["messages"][-1].content)


def introduction(person: Person) -> str:
    """Return the person's first message."""
    return f"Hi! I'm {person.name}, I live in {person.city}, and {person.fact_said}."


def question(person: Person, index: int) -> tuple[str, str]:
    """Return the ``index``-th question about ``person`` and its expected answer."""
    asked = [
        ("What's my name?", person.name),
        ("Which city do I live in?", person.city),
        (person.fact_question, person.fact_answer),
    ]
    return asked[index % len(asked)]


async def recall(graph: Any, people: list[Person], log: list[str]) -> dict[str, Any]:
    """Ask each person's facts back at each distance; return the scores."""
    hits = {distance: 0 for distance in DISTANCES}
    own = correct = 0
    for number, person in enumerate(people):
        chat = Conversation(graph, f"recall-{number}", Context())
        await chat.say(introduction(person))
        turn = 0
        for which, distance in enumerate(DISTANCES):
            while turn < distance - 1:
                await chat.say(SMALL_TALK[turn % len(SMALL_TALK)])
                turn += 1
            asked, answer = question(person, number + which)
            reply = await chat.say(asked)
            turn += 1
            ok = holds(reply, answer)
            hits[distance] += ok
            if ok:
                correct += 1
                own += speaks_as_own(reply, answer)
            log.append(f"recall d={distance} {person.name}: {asked!r} -> {reply!r} [{ok}]")
    return {"hits": hits, "cases": len(people), "own": own, "correct": correct}


async def summary_recall(
    graph: Any, people: list[Person], budget: int, log: list[str]
) -> tuple[int, int]:
    """Fold each person's fact into the summary, then ask for it; return (hits, cases)."""
    hits = cases = 0
    for number, person in enumerate(people):
        chat = Conversation(graph, f"summary-{number}", Context(max_history_tokens=budget))
        await chat.say(f"Hi! I'm {person.name}, and {person.fact_said}.")
        first_id = chat.state["messages"][0].id
        for turn in range(30):
            marker = chat.state.get("summarized_through")
            ids = [message.id for message in chat.state["messages"]]
            if marker in ids and ids.index(marker) >= ids.index(first_id):
                break
            await chat.say(SMALL_TALK[turn % len(SMALL_TALK)])
        else:
            log.append(f"summary {person.name}: never folded within 30 turns")
            continue
        cases += 1
        reply = await chat.say(person.fact_question)
        ok = holds(reply, person.fact_answer)
        hits += ok
        log.append(
            f"summary {person.name}: summary={chat.state.get('summary', '')!r} "
            f"{person.fact_question!r} -> {reply!r} [{ok}]"
        )
    return hits, cases


async def language(graph: Any, questions: list[str], log: list[str]) -> dict[str, list[int]]:
    """Ask English questions in threads set to each language; return hits per language."""
    results: dict[str, list[int]] = {}
    for language_name in LANGUAGES:
        chat = Conversation(graph, f"lang-{language_name}", Context(), language=language_name)
        results[language_name] = [0, len(questions)]
        for asked in questions:
            reply = await chat.say(asked)
            found = language_of(reply)
            results[language_name][0] += found == language_name
            log.append(f"language {language_name}: {asked!r} -> {reply!r} [{found}]")
    return results


def share(hits: int, cases: int) -> str:
    """Return ``hits/cases`` as a percentage."""
    return f"{100 * hits / cases:.0f}%" if cases else "n/a"


async def main() -> None:
    """Run every section and print the table and the summary line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a quarter of the cases")
    parser.add_argument("--budget", type=int, default=250, help="token budget of summary cases")
    parser.add_argument("--verbose", action="store_true", help="print every reply")
    args = parser.parse_args()
    people = PEOPLE[:5] if args.quick else PEOPLE
    questions = LANGUAGE_QUESTIONS[:1] if args.quick else LANGUAGE_QUESTIONS
    log: list[str] = []
    started = time.monotonic()
    async with embedded_model_server() as base_url:
        settings.set_local_model_url(base_url)
        graph = build_graph().compile(checkpointer=InMemorySaver())
        recalled = await recall(graph, people, log)
        summary_hits, summary_cases = await summary_recall(
            graph, people[: max(1, len(people) // 2)], args.budget, log
        )
        languages = await language(graph, questions, log)
    if args.verbose:
        print("\n".join(log))
    cases = recalled["cases"]
    print(f"| Measure | Share | Cases | ({time.monotonic() - started:.0f} s)")
    print("|---|---:|---:|")
    for distance, hits in recalled["hits"].items():
        print(f"| recall, {distance} turn(s) later | {share(hits, cases)} | {cases} |")
    print(
        f"| recall of a fact folded into the summary | {share(summary_hits, summary_cases)} "
        f"| {summary_cases} |"
    )
    for language_name, (hits, total) in languages.items():
        print(
            f"| reply in {language_name} (user writes English) | {share(hits, total)} | {total} |"
        )
    print(
        f"| recalled facts spoken of as the bot's own | "
        f"{share(recalled['own'], recalled['correct'])} | {recalled['correct']} |"
    )
    language_hits = sum(hits for hits, _ in languages.values())
    language_cases = sum(total for _, total in languages.values())
    print(
        f"recall={share(sum(recalled['hits'].values()), cases * len(DISTANCES))} "
        f"summary_recall={share(summary_hits, summary_cases)} "
        f"language={share(language_hits, language_cases)} "
        f"first_person={share(recalled['own'], recalled['correct'])}"
    )


if __name__ == "__main__":
    asyncio.run(main())
