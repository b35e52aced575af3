"""Does the bot do what a chat model is asked for? Stories, menus, recipes, in six languages.

Issue 29 saw the embedded model answer "Write a 200-word story about a
lighthouse." with "I'm sorry, but I can't assist with that request.", and
once it wrote, 434 words of repeated paragraphs. Each request here is sent
as the first message of a new conversation of a new user, through the real
graph in process against the embedded model server (or
``CHATBOT_MODEL_FILE``'s), temperature 0, replies capped at
:data:`REPLY_TOKENS`. Every reply is judged for:

- **refused**: it declines a harmless request (:data:`REFUSALS`, any language);
- **repeated**: a sentence or paragraph of 16 characters or more comes twice;
- **echoed**: the reply is the request again, or holds it whole;
- **language**: the reply is in the request's language (``language_of``).

The held-out requests (``--held-out``) were written with the tuning ones,
before any tuning, and are run only to report.

    .venv/bin/python -m bench.requests               # 24 requests, ~6 min on 2 cores (0.5B)
    .venv/bin/python -m bench.requests --held-out    # 12 other requests: report only
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from agent import settings
from agent.conversation.context import Context
from agent.graph import build_graph
from agent.housekeeping import drained
from agent.models.local.weights import model_file
from agent.testing.languages import folded, language_of
from bench.multilingual import ModelServer, git

REPLY_TOKENS = 320
"""Reply cap: a short story or a recipe fits; a loop shows within it."""

TUNING: dict[str, tuple[str, ...]] = {
    "Korean": (
        "등대에 관한 짧은 이야기를 써 주세요.",
        "오늘 저녁 메뉴 추천해 줄래요?",
        "김치볶음밥 만드는 법을 알려 주세요.",
        "친구에게 보낼 생일 축하 메시지를 써 주세요.",
    ),
    "Japanese": (
        "灯台についての短い物語を書いてください。",
        "今晩の夕食のメニューを提案してくれますか？",
        "親子丼の作り方を教えてください。",
        "友達への誕生日メッセージを書いてください。",
    ),
    "French": (
        "Écris une courte histoire sur un phare.",
        "Tu peux me proposer un menu pour ce soir ?",
        "Donne-moi la recette des crêpes.",
        "Écris un message d'anniversaire pour un ami.",
    ),
    "Spanish": (
        "Escribe un cuento corto sobre un faro.",
        "¿Me recomiendas un menú para esta noche?",
        "Dame la receta de la tortilla de patatas.",
        "Escribe un mensaje de cumpleaños para un amigo.",
    ),
    "German": (
        "Schreib eine kurze Geschichte über einen Leuchtturm.",
        "Kannst du mir ein Abendessen für heute vorschlagen?",
        "Gib mir ein Rezept für Kartoffelsalat.",
        "Schreib eine Geburtstagsnachricht für einen Freund.",
    ),
    "English": (
        "Write a 200-word story about a lighthouse.",
        "Can you suggest a dinner menu for tonight?",
        "Give me a recipe for banana bread.",
        "Write a birthday message for a friend.",
    ),
}
"""The requests changes are tuned against."""

HELD_OUT: dict[str, tuple[str, ...]] = {
    "Korean": ("비 오는 날에 어울리는 시를 한 편 써 주세요.", "된장찌개 끓이는 법을 알려 주세요."),
    "Japanese": ("雨の日の短い詩を書いてください。", "味噌汁の作り方を教えてください。"),
    "French": ("Écris un petit poème sur la pluie.", "Comment on fait une quiche lorraine ?"),
    "Spanish": ("Escribe un poema corto sobre la lluvia.", "¿Cómo se hace un gazpacho?"),
    "German": ("Schreib ein kurzes Gedicht über den Regen.", "Wie macht man Pfannkuchen?"),
    "English": ("Write a short poem about the rain.", "How do I make a vegetable soup?"),
}
"""Written with :data:`TUNING`, before any tuning; run only to report."""

REFUSALS = (
    "can't assist",
    "cannot assist",
    "can't help with",
    "cannot help with",
    "unable to",
    "i'm sorry, but",
    "도와드릴 수 없",
    "죄송하지만",
    "申し訳ありませんが",
    "お手伝いできません",
    "je ne peux pas",
    "désolé, mais",
    "no puedo",
    "lo siento, pero",
    "kann ich nicht",
    "kann dir nicht",
    "kann ihnen nicht",
    "es tut mir leid, aber",
)
"""Phrases of a reply that declines (any of the six languages)."""

_PIECE = re.compile(r"(?<=[.!?。！？])\s*|\n+")
MIN_REPEATED_CHARS = 16
"""A repeated piece this long or longer is a loop ("Happy birthday!" twice is not)."""


REFUSAL_OPENING_CHARS = 160
"""A refusal opens the reply; further on, the same words are a story's dialogue."""


def refuses(reply: str) -> bool:
    """Tell whether ``reply`` declines the request (in its opening)."""
    opening = folded(reply).replace("\u2019", "'")[:REFUSAL_OPENING_CHARS]
    return any(folded(phrase) in opening for phrase in REFUSALS)


def repeats(reply: str) -> bool:
    """Tell whether a sentence or paragraph of the reply comes twice."""
    seen: set[str] = set()
    for piece in _PIECE.split(reply):
        key = folded(piece.strip())
        if len(key) < MIN_REPEATED_CHARS:
            continue
        if key in seen:
            return True
        seen.add(key)
    return False


def echoes(reply: str, request: str) -> bool:
    """Tell whether the reply is, or holds, the request word for word."""
    return folded(request.strip()) in folded(reply)


async def main() -> None:
    """Send every request of the chosen set; print and write the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--held-out", action="store_true", help="the held-out requests")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    os.environ[settings.MAX_REPLY_TOKENS.name] = str(REPLY_TOKENS)
    requests = HELD_OUT if args.held_out else TUNING
    model = await asyncio.to_thread(model_file)
    server = ModelServer()
    await server.start()
    graph = build_graph().compile(checkpointer=InMemorySaver(), store=InMemoryStore())
    measures = ("refused", "repeated", "echoed", "language")
    rows: dict[str, dict[str, int]] = {}
    log: list[dict[str, Any]] = []
    started = time.monotonic()
    try:
        for language, texts in requests.items():
            row = rows.setdefault(language, dict.fromkeys((*measures, "cases"), 0))
            for number, text in enumerate(texts):
                user = f"rq-{language}-{number}"
                config: Any = {"configurable": {"thread_id": user, "langgraph_auth_user_id": user}}
                turn = {"messages": [{"role": "user", "content": text}]}
                state = await graph.ainvoke(turn, config, context=Context())
                await drained()
                reply = str(state["messages"][-1].content)
                judged = {
                    "refused": refuses(reply),
                    "repeated": repeats(reply),
                    "echoed": echoes(reply, text),
                    "language": language_of(reply) == language,
                }
                row["cases"] += 1
                for measure, hit in judged.items():
                    row[measure] += hit
                log.append({"asked_in": language, "request": text, "reply": reply, **judged})
    finally:
        await server.stack.aclose()
    total = {key: sum(row[key] for row in rows.values()) for key in (*measures, "cases")}
    lines = [
        "| Language | refused | repeated | echoed | reply language |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {name} | " + " | ".join(f"{row[m]}/{row['cases']}" for m in measures) + " |"
            for name, row in {**rows, "all": total}.items()
        ),
        "| goal | 0 | 0 | 0 | all |",
    ]
    print("\n".join(lines))
    kind = "held-out" if args.held_out else "tuning"
    stem = args.out / f"requests-{kind}-{git('rev-parse', '--short=7', 'HEAD') or 'unknown'}"
    args.out.mkdir(parents=True, exist_ok=True)
    facts = {
        "commit": git("rev-parse", "HEAD"),
        "uncommitted_in_src": git("status", "--porcelain", "--", ":(top)src").splitlines(),
        "model_file": f"{model.name} ({model.stat().st_size:,} bytes)",
        "reply_cap_tokens": REPLY_TOKENS,
        "seconds": round(time.monotonic() - started),
        "set": kind,
    }
    stem.with_suffix(".json").write_text(
        json.dumps({**facts, "rows": rows, "replies": log}, indent=1, ensure_ascii=False) + "\n"
    )
    stem.with_suffix(".md").write_text(
        f"# Ordinary requests ({kind} set)\n\n{json.dumps(facts, ensure_ascii=False)}\n\n"
        + "\n".join(lines)
        + "\n"
    )
    print(f"wrote {stem}.md and .json")
    print("requests: " + " ".join(f"{m}={total[m]}/{total['cases']}" for m in measures))


if __name__ == "__main__":
    asyncio.run(main())
