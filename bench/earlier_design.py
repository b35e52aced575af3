"""How should an earlier conversation's exchange be shown to the model? A quick probe.

Issue 30: with the exchanges of earlier conversations as turns before the
question, each user's message dated ``[2026-11-21] ...``, the recall bench's
plan questions ("When did I say I was going to X?") were answered 0 of 12:
the model reads the bracketed date, not the date in the message, and answers
with it or says it does not know. This probe builds a new conversation's
prompt with the project's own code (``turn.system_message``,
``prompt.worked_exchange``, ``memory.earlier``'s ranking and turns) for the
recall bench's tuning people, their earlier conversations dated days apart,
and sends it straight to an OpenAI-compatible server at temperature 0, so a
way of showing the exchanges is judged in minutes without the graph, the
search index or the store. Judged with ``bench.conversation_recall``'s own
rules. The deleted conversation's question is left out (what answers it is
the index, not the prompt).

Variants (``--variant``): ``dated`` (``[date] message``, as shipped until
this probe), ``undated`` (the message alone), ``dated-after`` (the message,
then the date in parentheses on its own line), and ``undated-no-example``:
undated, and without the worked exchange (an unknown fact answered "you have
not told me") when an earlier exchange is shown.

A hint for design, not the measure: ``make bench-recall`` decides.

    .venv/bin/python -m bench.earlier_design --url http://127.0.0.1:8391/v1 --variant undated
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from collections import Counter

import httpx
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from agent.conversation.context import Context
from agent.conversation.prompt import worked_exchange
from agent.memory.earlier import Exchange, relevant
from agent.turn import system_message
from bench.conversation_recall import (
    DELETED,
    LANGUAGES,
    REPLY_TOKENS,
    Tally,
    earlier_conversations,
    judge,
    questions,
)
from bench.reply_design import as_openai, ask

FORMATS = {
    "dated": "[{date}] {said}",
    "undated": "{said}",
    "dated-after": "{said}\n({date})",
    "undated-no-example": "{said}",
}
"""How each variant shows an earlier user's message."""


def shown(exchanges: list[Exchange], form: str) -> list[BaseMessage]:
    """Return the exchanges as turns, oldest first, the user's part in ``form``."""
    turns: list[BaseMessage] = []
    for exchange in sorted(exchanges, key=lambda exchange: exchange.at):
        said = form.format(date=exchange.at[:10], said=exchange.said)
        turns += [HumanMessage(content=said), AIMessage(content=exchange.answered)]
    return turns


async def main() -> None:
    """Run one variant over the people and print each reply and the totals."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8391/v1")
    parser.add_argument("--variant", choices=tuple(FORMATS), required=True)
    parser.add_argument("--people", type=int, default=2, help="people a language")
    args = parser.parse_args()
    tallies: dict[str, Tally] = {}
    found: Counter[str] = Counter()
    firsts: list[float] = []
    async with httpx.AsyncClient(timeout=300) as client:
        for language in LANGUAGES:
            people = language.people[: args.people]
            for number, person in enumerate(people):
                other = language.people[(number + 1) % len(language.people)]
                exchanges = [
                    Exchange(earlier.kind, f"2026-11-{20 + day}T10:00:00", said, answered)
                    for day, earlier in enumerate(earlier_conversations(language, person))
                    if earlier.kind != DELETED
                    for (_u, said), (_a, answered) in [earlier.messages]
                ]
                exchanges.reverse()  # newest first, as the index gives them
                for question in questions(language, person, other):
                    if question.kind == "deleted":
                        continue
                    chosen = relevant(exchanges, question.text)
                    found[question.kind] += any(e.thread_id == question.kind for e in chosen)
                    system = system_message(Context(), language.name, "", [], question.text)
                    example = not chosen or args.variant != "undated-no-example"
                    prompt = [
                        system,
                        *(worked_exchange(language.name) if example else []),
                        *shown(chosen, FORMATS[args.variant]),
                        HumanMessage(content=question.text),
                    ]
                    messages = [as_openai(m) for m in prompt]
                    reply, first = await ask(client, args.url, messages, REPLY_TOKENS)
                    firsts.append(first)
                    judged = judge(tallies.setdefault(language.name, Tally()), question, reply)
                    print(f"{language.code} {question.kind:10} {judged} {reply[:90]!r}", flush=True)
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    by_language = " ".join(f"{name[:2]} {t.cell('answered')}" for name, t in tallies.items())
    print(
        f"{args.variant}: answered {total.cell('answered')} ({by_language}); "
        f"invented {total.cell('invented')}; other user {total.cell('other_user')}; "
        f"found by ranking {dict(found)}; "
        f"first token median {statistics.median(firsts) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
