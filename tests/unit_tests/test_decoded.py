"""The savers' serializer decodes a large blob once, and no read can change another's."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.serde.types import _DeltaSnapshot

from agent.storage import decoded
from agent.storage.decoded import MIN_BYTES, RecentBlobsSerializer


def checkpoint_with_transcript(turns: int, said: str = "I keep bees") -> dict[str, Any]:
    """A checkpoint as the SQLite saver stores it: a full copy of the transcript inside."""
    messages = [
        message
        for turn in range(turns)
        for message in (
            HumanMessage(content=f"{said}, turn {turn}", id=f"h{turn}"),
            AIMessage(content=f"Noted, turn {turn}.", id=f"a{turn}"),
        )
    ]
    return {
        "v": 4,
        "id": "checkpoint-1",
        "channel_values": {"messages": _DeltaSnapshot(messages), "language": "English"},
        "channel_versions": {"messages": 3, "language": 1},
        "versions_seen": {"model": {"messages": 2}},
    }


def test_a_large_blob_reads_back_as_the_standard_serializer_reads_it() -> None:
    serde = RecentBlobsSerializer()
    blob = serde.dumps_typed(checkpoint_with_transcript(400))
    assert len(blob[1]) >= MIN_BYTES, "the example must be large enough to be kept"
    standard = JsonPlusSerializer().loads_typed(blob)
    assert serde.loads_typed(blob) == standard
    assert serde.loads_typed(blob) == standard, "and so does every later read"


def test_a_second_read_of_the_same_bytes_builds_no_message_again() -> None:
    serde = RecentBlobsSerializer()
    blob = serde.dumps_typed(checkpoint_with_transcript(400))
    first = serde.loads_typed(blob)["channel_values"]["messages"].value
    second = serde.loads_typed(blob)["channel_values"]["messages"].value
    assert all(a is b for a, b in zip(first, second, strict=True))


def test_changing_what_one_read_returned_changes_no_later_read() -> None:
    serde = RecentBlobsSerializer()
    blob = serde.dumps_typed(checkpoint_with_transcript(400))
    mine = serde.loads_typed(blob)
    mine["channel_values"]["messages"].value.append(HumanMessage(content="extra"))
    mine["channel_versions"]["messages"] = 99
    mine["versions_seen"]["model"].clear()
    theirs = serde.loads_typed(blob)
    assert len(theirs["channel_values"]["messages"].value) == 800
    assert theirs["channel_versions"]["messages"] == 3
    assert theirs["versions_seen"] == {"model": {"messages": 2}}


def test_other_bytes_decode_to_their_own_content() -> None:
    serde = RecentBlobsSerializer()
    bees = serde.dumps_typed(checkpoint_with_transcript(400, said="I keep bees"))
    goats = serde.dumps_typed(checkpoint_with_transcript(400, said="I keep goats"))
    serde.loads_typed(bees)
    transcript = serde.loads_typed(goats)["channel_values"]["messages"].value
    assert transcript[0].content == "I keep goats, turn 0"


def test_small_blobs_are_decoded_afresh_every_time() -> None:
    serde = RecentBlobsSerializer()
    blob = serde.dumps_typed(checkpoint_with_transcript(2))
    assert len(blob[1]) < MIN_BYTES
    first = serde.loads_typed(blob)["channel_values"]["messages"].value
    second = serde.loads_typed(blob)["channel_values"]["messages"].value
    assert first == second and first[0] is not second[0]


def test_the_oldest_blob_is_forgotten_beyond_the_byte_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = JsonPlusSerializer()
    blobs = [plain.dumps_typed(checkpoint_with_transcript(400, said=f"fact {n}")) for n in range(3)]
    monkeypatch.setattr(decoded, "MAX_BYTES", 2 * len(blobs[0][1]) + 1000)
    serde = RecentBlobsSerializer()

    def first_message(blob: tuple[str, bytes]) -> Any:
        return serde.loads_typed(blob)["channel_values"]["messages"].value[0]

    kept = [first_message(blob) for blob in blobs]
    assert first_message(blobs[2]) is kept[2], "the newest stayed"
    assert first_message(blobs[0]) is not kept[0], "the oldest went to make room"


def test_a_serializer_with_a_wider_allowlist_keeps_its_own_decodings() -> None:
    serde = RecentBlobsSerializer(allowed_msgpack_modules=[("langchain_core.messages",)])
    wider = serde.with_msgpack_allowlist([("collections", "OrderedDict")])
    assert isinstance(wider, RecentBlobsSerializer) and wider is not serde
    blob = serde.dumps_typed(checkpoint_with_transcript(400))
    first = serde.loads_typed(blob)["channel_values"]["messages"].value[0]
    assert wider.loads_typed(blob)["channel_values"]["messages"].value[0] is not first
