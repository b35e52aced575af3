"""Which reply design keeps the model from inventing what the user never said? A quick probe.

Issue 29: asked "¿Cómo se llama mi hermana?" by a user who never mentioned
one, the embedded model answers "Mi hermana se llama María.". This probe
sends one new-conversation prompt a question, built by the project's own
code (``turn.system_message``, ``prompt.worked_exchange``), straight to an
OpenAI-compatible server at temperature 0, so a variant of the turn's design
is judged in minutes without the graph, the store or extraction. Two people
a language of ``bench.multilingual``'s tuning set (``--people``), with their
name, city and one more fact remembered, each asked the three and the
language's three never-said questions. Judged with ``bench.multilingual``'s
own rules: a known fact named (and whether as the bot's own), a never-said
question answered without saying so or asking.

Variants (``--variant``):

- ``shipped``: the worked exchange as a turn before the conversation;
- ``no-exchange``: the prompt as it was before it (the system prompt alone);
- ``decide``: the old prompt, and first a call that asks, after the
  question, whether memory holds the answer; NO adds a note that the user
  has not told it (the call's time is reported);
- ``memory-turn``: the user's facts leave the system prompt for an exchange
  in their language before the worked one ("What do you know about me?" ->
  "Only what you have told me about yourself:" and the list);
- ``memory-turn-last``: the same exchange after the worked one, just before
  the conversation.

A hint for design, not the measure: ``make bench-quality`` decides.

    .venv/bin/python -m bench.reply_design --url http://127.0.0.1:8081/v1 --variant shipped
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time
from collections import Counter
from typing import Any

import httpx
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from agent.conversation.context import Context
from agent.conversation.prompt import render_system_prompt, worked_exchange
from agent.memory.facts import Fact
from agent.turn import system_message
from bench.multilingual import LANGUAGES, holds_any, invents, speaks_as_own

FACT_TOPICS = ("pet", "likes", "health", "family", "pet")
"""The topic of each tuning person's fact beyond name and city, by their place in the list."""

DECIDE = (
    "Before you answer: does the list of what you know about the user hold the answer to "
    "their last message? Reply with one word: YES if it does, NO if they ask about something "
    "of theirs that is not in the list, OTHER if the message does not ask about them."
)
NOT_TOLD = "The user has not told you this. Say so in {language}, in one sentence."

MEMORY_EXCHANGES = {
    "English": ("What do you know about me?", "Only what you have told me about yourself:"),
    "Korean": ("저에 대해 뭘 알고 있어요?", "말씀해 주신 것만 알고 있어요:"),
    "Japanese": ("私について何を知っていますか？", "あなたが教えてくれたことだけです："),
    "French": ("Que sais-tu de moi ?", "Seulement ce que tu m'as dit de toi :"),
    "Spanish": ("¿Qué sabes de mí?", "Solo lo que me has contado de ti:"),
    "German": ("Was weißt du über mich?", "Nur, was du mir über dich erzählt hast:"),
}
"""For the ``memory-turn`` variants: the user asks what the bot knows, the bot lists it."""

VARIANTS = ("shipped", "no-exchange", "decide", "memory-turn", "memory-turn-last")


def prompt_start(
    variant: str, language: str, facts: list[Fact], question: str
) -> list[BaseMessage]:
    """Return the system message and the turns before the question, as ``variant`` lays them."""
    if not variant.startswith("memory-turn"):
        system = system_message(Context(), language, "", facts, question)
        return [system, *(worked_exchange(language) if variant == "shipped" else [])]
    asked, answer = MEMORY_EXCHANGES[language]
    listed = "\n".join([answer, *(fact.line() for fact in facts)])
    memory = [HumanMessage(content=asked), AIMessage(content=listed)]
    bare: SystemMessage = render_system_prompt(Context().system_prompt, language)
    if variant == "memory-turn":
        return [bare, *memory, *worked_exchange(language)]
    return [bare, *worked_exchange(language), *memory]


def fact_of(intro: str) -> str:
    """Return the introduction's last clause: the fact beyond name and city, as written."""
    clauses = re.split(r"(?<=[.!?。！？])\s*|, | et | y | und | and ", intro)
    return [clause.strip() for clause in clauses if clause.strip()][-1].rstrip(".!。")


async def ask(
    client: httpx.AsyncClient, url: str, messages: list[dict[str, str]], max_tokens: int = 60
) -> tuple[str, float]:
    """Return the model's answer and the seconds to its first token (streamed)."""
    body = {"messages": messages, "temperature": 0, "max_tokens": max_tokens, "stream": True}
    start = time.perf_counter()
    first, text = 0.0, ""
    async with client.stream("POST", f"{url}/chat/completions", json=body) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            delta = json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
            if delta and not first:
                first = time.perf_counter() - start
            text += delta
    return text.strip(), first


def as_openai(message: Any) -> dict[str, str]:
    """Return a LangChain message as an OpenAI chat message."""
    role = {"system": "system", "human": "user", "ai": "assistant"}[message.type]
    return {"role": role, "content": str(message.content)}


async def main() -> None:
    """Run one variant over the people and print each reply and the totals."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8081/v1")
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    parser.add_argument("--people", type=int, default=2, help="people a language (at most 5)")
    args = parser.parse_args()
    tally: Counter[str] = Counter()
    decisions: list[float] = []
    firsts: list[float] = []
    async with httpx.AsyncClient(timeout=300) as client:
        for language in LANGUAGES:
            for number, person in enumerate(language.people[: args.people]):
                facts = [
                    Fact("name", person.name),
                    Fact("location", person.city),
                    Fact(FACT_TOPICS[number], fact_of(person.intro)),
                ]
                questions: list[tuple[str, tuple[str, ...]]] = [
                    (language.name_question, (person.name,)),
                    (language.city_question, (person.city,)),
                    (person.fact_question, person.fact_answers),
                    *((question, ()) for question in language.unknown_questions),
                ]
                for question, answers in questions:
                    laid = prompt_start(args.variant, language.name, facts, question)
                    messages = [as_openai(m) for m in laid]
                    messages.append({"role": "user", "content": question})
                    if args.variant == "decide":
                        start = time.perf_counter()
                        decided, _ = await ask(
                            client, args.url, [*messages, {"role": "system", "content": DECIDE}], 3
                        )
                        decisions.append(time.perf_counter() - start)
                        if decided.upper().startswith("NO"):
                            note = NOT_TOLD.format(language=language.name)
                            messages.append({"role": "system", "content": note})
                    reply, first = await ask(client, args.url, messages)
                    firsts.append(first)
                    if not answers:
                        invented = invents(reply)
                        tally[f"invented {language.code}"] += invented
                        tally["invented"] += invented
                        tally["never said"] += 1
                        verdict = "INVENTS" if invented else "admits"
                    else:
                        hit = holds_any(reply, answers)
                        own = hit and speaks_as_own(reply, answers)
                        tally["known"] += 1
                        tally["answered"] += hit
                        tally["first person"] += own
                        verdict = ("hit" if hit else "MISS") + (" OWN" if own else "")
                    print(f"{language.code} {verdict:8} {question} -> {reply[:90]!r}", flush=True)
    print(
        f"{args.variant}: known answered {tally['answered']}/{tally['known']}, "
        f"invented {tally['invented']}/{tally['never said']} ("
        + " ".join(f"{lang.code} {tally[f'invented {lang.code}']}" for lang in LANGUAGES)
        + f"), first person {tally['first person']}/{tally['answered']}, "
        f"first token median {statistics.median(firsts) * 1000:.0f} ms"
        + (f", decision median {statistics.median(decisions) * 1000:.0f} ms" if decisions else "")
    )


if __name__ == "__main__":
    asyncio.run(main())
