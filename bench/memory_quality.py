"""Memory across conversations, measured with the model in use (the embedded one by default).

Through a real ``langgraph dev`` with memory on and auth on, each person of
:data:`PEOPLE` is their own user (a token each, so memories never mix):

1. thread A: "Hi! I'm {name}, I live in {home} and I love {hobby}."
2. a new thread: "What's my name and where do I live?": *remembered* when the
   reply has both the name and the home;
3. a new thread: "Actually I moved to {moved}.": *correction applied* when the
   memory then says the user lives in {moved} (and no longer in {home});
4. with ``--ask-after-correction``, a new thread: "Where do I live now?": the
   reply names {moved}.

Every fact saved is checked against what the person said: *made up* when its
words are not in anything they wrote; *mislabelled* when they said it, but
as another kind of fact (a city saved as a name).

Then the first token: the same statement-then-question turns with memory on
and off, streamed, measuring time to the first reply token and the time the
run goes on after the reply's last token (the memory step).

    .venv/bin/python -m bench.memory_quality            # ~15 min on 2 cores
    .venv/bin/python -m bench.memory_quality --people 5 --first-token-rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from agent.memory.extraction import grounded
from agent.models.local.launcher import free_port
from agent.server.tokens import create_token
from agent.testing.dev_server import DevServer, server_environment, write_config
from agent.testing.turns import GRAPH_ID, user

SECRET = "memory-quality-bench-secret-long-enough-for-hs256"

PEOPLE: list[tuple[str, str, str, str]] = [
    ("Amara", "Accra", "Kumasi", "chess"),
    ("Bjorn", "Bergen", "Trondheim", "sailing"),
    ("Chiara", "Verona", "Bologna", "opera"),
    ("Dmitri", "Kazan", "Samara", "hockey"),
    ("Esperanza", "Oaxaca", "Puebla", "pottery"),
    ("Farid", "Tabriz", "Shiraz", "poetry"),
    ("Gulnara", "Almaty", "Astana", "archery"),
    ("Hamish", "Dundee", "Aberdeen", "golf"),
    ("Ingrid", "Uppsala", "Malmo", "skiing"),
    ("Jomo", "Kisumu", "Mombasa", "running"),
    ("Keiko", "Sapporo", "Sendai", "origami"),
    ("Lorenzo", "Cagliari", "Palermo", "cycling"),
    ("Mei", "Xiamen", "Hangzhou", "calligraphy"),
    ("Nnamdi", "Enugu", "Ibadan", "football"),
    ("Oksana", "Lviv", "Odesa", "painting"),
    ("Pedro", "Braga", "Coimbra", "surfing"),
    ("Quynh", "Hue", "Danang", "cooking"),
    ("Rashid", "Sharjah", "Muscat", "falconry"),
    ("Saoirse", "Galway", "Cork", "hurling"),
    ("Tupac", "Cusco", "Arequipa", "weaving"),
    ("Ulla", "Tampere", "Turku", "knitting"),
    ("Vikram", "Nagpur", "Indore", "cricket"),
]
"""Name, home, the home they move to, a hobby: none of these is in any prompt of the chatbot."""


@dataclass
class Outcome:
    """What happened for one person."""

    name: str
    recalled: bool = False
    corrected: bool = False
    corrected_reply: bool = False
    saved: dict[str, str] = field(default_factory=dict)
    made_up: list[str] = field(default_factory=list)
    mislabelled: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)


async def say(client: LangGraphClient, text: str, thread: str | None = None) -> str:
    """Send ``text`` in ``thread`` (a new one by default) and return the reply."""
    thread = thread or str((await client.threads.create())["thread_id"])
    values = await client.runs.wait(thread, GRAPH_ID, input=user(text))
    assert isinstance(values, dict) and "__error__" not in values, values
    return str(values["messages"][-1]["content"])


async def memory(client: LangGraphClient, user_id: str) -> dict[str, str]:
    """Return the user's saved facts, kind -> text."""
    found = await client.store.search_items([user_id, "memories"], limit=100)
    return {item["key"]: str(item["value"]["text"]) for item in found["items"]}


def client_for(url: str, user_id: str) -> LangGraphClient:
    """Return an SDK client that acts as ``user_id``."""
    token = create_token(user_id, SECRET)
    return get_client(url=url, api_key=None, headers={"Authorization": f"Bearer {token}"})


async def one_person(url: str, index: int, ask_after: bool) -> Outcome:
    """Run the four turns of one person; judge what was said and saved."""
    name, home, moved, hobby = PEOPLE[index]
    user_id = f"person-{index}"
    client = client_for(url, user_id)
    outcome = Outcome(name=name)
    said = [
        f"Hi! I'm {name}, I live in {home} and I love {hobby}.",
        "What's my name and where do I live?",
        f"Actually I moved to {moved}.",
        "Where do I live now?",
    ]
    replies = [await say(client, said[0])]
    replies.append(await say(client, said[1]))
    outcome.recalled = name.lower() in replies[1].lower() and home.lower() in replies[1].lower()
    first_saved = await memory(client, user_id)
    replies.append(await say(client, said[2]))
    after = await memory(client, user_id)
    outcome.corrected = after.get("location", "").lower() == moved.lower()
    if ask_after:
        replies.append(await say(client, said[3]))
        outcome.corrected_reply = moved.lower() in replies[3].lower()
    outcome.replies = replies
    truth = {"name": name, "likes": hobby, "location": moved}
    everything_said = " ".join(said)
    for saved in (first_saved, after):
        for kind, text in saved.items():
            label = f"{kind}: {text}"
            if label in outcome.saved.values():
                continue
            outcome.saved[f"{kind}@{len(outcome.saved)}"] = label
            if not grounded(text, everything_said):
                outcome.made_up.append(label)
            elif kind in truth and not (
                grounded(truth[kind], text) or (kind == "location" and grounded(home, text))
            ):
                outcome.mislabelled.append(label)
            elif kind not in truth:
                outcome.mislabelled.append(label)
    await client.http.client.aclose()
    return outcome


async def first_token(url: str, remember: bool, rounds: int) -> dict[str, float]:
    """Median ms to the first reply token, and of the run after the reply's last token."""
    client = client_for(url, f"first-token-{remember}")
    firsts: list[float] = []
    tails: list[float] = []
    for number in range(rounds):
        name, home, _moved, hobby = PEOPLE[number % len(PEOPLE)]
        thread = str((await client.threads.create())["thread_id"])
        for text in (f"I'm {name} and I love {hobby}.", "What do you know about me?"):
            start = time.perf_counter()
            first = last = None
            async for part in client.runs.stream(
                thread,
                GRAPH_ID,
                input=user(text),
                context={"remember": remember},
                stream_mode="messages-tuple",
            ):
                if part.event == "messages":
                    chunk, meta = part.data
                    if meta.get("langgraph_node") == "model" and chunk.get("content"):
                        now = time.perf_counter()
                        first = first or now
                        last = now
            end = time.perf_counter()
            if first is not None and last is not None:
                firsts.append((first - start) * 1000)
                tails.append((end - last) * 1000)
    await client.http.client.aclose()
    return {
        "first_token_ms": statistics.median(firsts) if firsts else float("nan"),
        "after_reply_ms": statistics.median(tails) if tails else float("nan"),
    }


def share(count: int, total: int) -> str:
    """Return ``count/total (percent)``."""
    return f"{count}/{total} ({100 * count / total:.0f}%)" if total else "0/0"


async def main() -> None:
    """Run the people, then the first-token comparison, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=len(PEOPLE))
    parser.add_argument("--first-token-rounds", type=int, default=5)
    parser.add_argument("--ask-after-correction", action="store_true")
    parser.add_argument("--json", type=Path, help="Also write every outcome here.")
    parser.add_argument(
        "--model-url",
        help="An OpenAI-compatible server to use instead of the embedded model (its base URL).",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="chatbot-memory-"))
    write_config(workdir)
    extra = {"OPENAI_BASE_URL": args.model_url, "OPENAI_API_KEY": "none"} if args.model_url else {}
    env = server_environment(CHATBOT_REMEMBER="true", CHATBOT_AUTH_SECRET=SECRET, **extra)
    server = DevServer(workdir=workdir, port=free_port(), env=env)
    started = time.perf_counter()
    server.start()
    outcomes: list[Outcome] = []
    try:
        for index in range(min(args.people, len(PEOPLE))):
            outcome = await one_person(server.url, index, args.ask_after_correction)
            outcomes.append(outcome)
            print(json.dumps(vars(outcome), ensure_ascii=False), flush=True)
        timing = {}
        for remember in (False, True):
            timing[remember] = await first_token(server.url, remember, args.first_token_rounds)
    finally:
        server.stop()
    people = len(outcomes)
    saved = sum(len(o.saved) for o in outcomes)
    print(f"\nmemory_quality: {people} people, {time.perf_counter() - started:.0f} s")
    print("| Figure | Result | Goal |\n|---|---|---|")
    print(
        f"| Remembered in a new thread (name and home in the reply) | "
        f"{share(sum(o.recalled for o in outcomes), people)} | >= 80% |"
    )
    print(
        f"| Corrections applied (memory says the new home) | "
        f"{share(sum(o.corrected for o in outcomes), people)} | >= 80% |"
    )
    if args.ask_after_correction:
        print(
            f"| ... and the next new thread's reply names it | "
            f"{share(sum(o.corrected_reply for o in outcomes), people)} | |"
        )
    print(
        f"| Saved facts the user never said (made up) | "
        f"{share(sum(len(o.made_up) for o in outcomes), saved)} | <= 5% |"
    )
    print(
        f"| Saved facts said, but under the wrong kind | "
        f"{share(sum(len(o.mislabelled) for o in outcomes), saved)} | |"
    )
    for remember, figures in timing.items():
        print(
            f"| First token, memory {'on' if remember else 'off'} (median ms) | "
            f"{figures['first_token_ms']:.0f} | |"
        )
        print(
            f"| Run after the reply's last token, memory {'on' if remember else 'off'} "
            f"(median ms) | {figures['after_reply_ms']:.0f} | |"
        )
    if args.json:
        args.json.write_text(json.dumps([vars(o) for o in outcomes], indent=2, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
