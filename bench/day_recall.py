"""Does "what did we talk about yesterday?" get an answer from yesterday's conversations? A probe.

Issue 30 asks that a question about what was said on a day be answered from
that day's conversations. The recall bench cannot ask it (a message is
indexed when it is written, and a bench cannot date a conversation back), so
this probe builds a new conversation's prompt with the project's own code
(``conversation.dates``, ``memory.earlier``'s ranking, openings and turns,
``turn.system_message``, ``prompt.worked_exchange``) for the recall bench's
tuning people, their earlier conversations dated by hand, and sends it
straight to an OpenAI-compatible server at temperature 0. Per person, in
their language:

* **yesterday**: the small talk and the recipe were yesterday, the novel and
  the plan four and five days ago; asked "what did we talk about
  yesterday?": *answered* when the reply names the repainted thing or the
  dish, *both* when it names the two;
* **without days**: the same question, prompt built as before days were
  read (the ranking alone): what reading the day buys;
* **nothing yesterday**: every conversation four days ago or more; the same
  question: *invented* by ``bench.conversation_recall.invented``.

A hint, not the measure: it skips the graph, the index and the store.

    .venv/bin/python -m bench.day_recall --url http://127.0.0.1:8391/v1
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from datetime import datetime, time, timedelta

import httpx
from langchain_core.messages import BaseMessage, HumanMessage

from agent.conversation import dates
from agent.conversation.context import Context
from agent.conversation.prompt import worked_exchange
from agent.memory.earlier import Exchange, is_question, openings, relevant, section
from agent.turn import system_message
from bench.conversation_recall import (
    DELETED,
    LANGUAGES,
    REPLY_TOKENS,
    earlier_conversations,
    invented,
    names,
)
from bench.reply_design import as_openai, ask

ASK_YESTERDAY = {
    "ko": "어제 우리 무슨 얘기 했었죠?",
    "ja": "昨日は何について話しましたっけ？",
    "fr": "De quoi est-ce qu'on a parlé hier ?",
    "es": "¿De qué hablamos ayer?",
    "de": "Worüber haben wir gestern geredet?",
    "en": "What did we talk about yesterday?",
}
"""The question, in each language of the recall bench."""

DAYS_AGO = {"small_talk": 1, "recipe": 1, "book": 4, "plan": 5}
"""When each earlier conversation was had, in the ``yesterday`` case."""


def dated(days_ago: int, now: datetime) -> str:
    """Return noon, local time, ``days_ago`` days before ``now``, as the index stores times."""
    local = datetime.combine(now.date() - timedelta(days=days_ago), time(12)).astimezone()
    return local.isoformat()


def recalled(
    exchanges: list[Exchange], question: str, language: str, by_day: bool
) -> tuple[list[Exchange], str]:
    """Return what ``memory.earlier.recalled`` shows for ``question`` (``by_day``: as shipped)."""
    days = dates.days_named(question, language) if by_day else None
    if days is not None:
        first, last = days.period()
        of_days = [e for e in exchanges if first <= datetime.fromisoformat(e.at) < last]
        found = relevant(of_days, question) or (openings(of_days) if is_question(question) else [])
        if found:
            return found, days.named
    return relevant(exchanges, question), ""


async def main() -> None:
    """Ask each person's question in the three cases; print every reply and the totals."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8391/v1")
    parser.add_argument("--people", type=int, default=2, help="people a language")
    args = parser.parse_args()
    now = datetime.now().astimezone()
    counts: dict[str, list[int]] = {}
    firsts: list[float] = []
    async with httpx.AsyncClient(timeout=300) as client:
        for language in LANGUAGES:
            question = ASK_YESTERDAY[language.code]
            for person in language.people[: args.people]:
                earlier = [e for e in earlier_conversations(language, person) if e.kind != DELETED]
                for case in ("yesterday", "without days", "nothing yesterday"):
                    exchanges = [
                        Exchange(
                            e.kind,
                            dated(
                                DAYS_AGO[e.kind] + (3 if case == "nothing yesterday" else 0), now
                            ),
                            said,
                            answered,
                        )
                        for e in earlier
                        for (_u, said), (_a, answered) in [e.messages]
                    ]
                    exchanges.sort(key=lambda e: e.at, reverse=True)
                    shown, named = recalled(
                        exchanges, question, language.name, case != "without days"
                    )
                    prompt: list[BaseMessage] = [
                        system_message(Context(), language.name, "", [], question),
                        *worked_exchange(language.name),
                        *section(shown, named),
                        HumanMessage(content=question),
                    ]
                    reply, first = await ask(
                        client, args.url, [as_openai(m) for m in prompt], REPLY_TOKENS
                    )
                    firsts.append(first)
                    named = [names(reply, (person.thing_key,)), names(reply, (person.dish_key,))]
                    tally = counts.setdefault(f"{language.code} {case}", [0, 0, 0, 0])
                    tally[0] += 1
                    tally[1] += any(named)
                    tally[2] += all(named)
                    tally[3] += invented(reply, question)
                    print(
                        f"{language.code} {case:17} shown {[e.thread_id for e in shown]} "
                        f"names {named} invented {invented(reply, question)} {reply[:100]!r}",
                        flush=True,
                    )
    for case in ("yesterday", "without days", "nothing yesterday"):
        rows = [tally for key, tally in counts.items() if key.split(" ", 1)[1] == case]
        asked = sum(row[0] for row in rows)
        per_language = " ".join(
            f"{key[:2]} {tally[1]}/{tally[0]}"
            for key, tally in counts.items()
            if key.split(" ", 1)[1] == case
        )
        print(
            f"{case}: names one {sum(r[1] for r in rows)}/{asked} ({per_language}); "
            f"names both {sum(r[2] for r in rows)}/{asked}; "
            f"invented {sum(r[3] for r in rows)}/{asked}"
        )
    print(f"first token median {statistics.median(firsts) * 1000:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
