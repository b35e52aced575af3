"""Decode a large checkpoint blob once, however many turns read it.

A thread's transcript is stored as deltas over one full copy of it (see
``agent.conversation.state`` and ``agent.storage.retention``), and every run
starts by reading the thread: that copy is decoded again each turn. At 1,000
turns it holds about 2,000 messages, each a pydantic model validated as it is
built, which was a third of the server's time per turn (``make
bench-storage``). The copy changes only when pruning moves it (every
``PRUNE_SLACK`` turns) or LangGraph writes a periodic one, so most turns decode
the very same bytes.

:class:`RecentBlobsSerializer` is LangGraph's ``JsonPlusSerializer`` (same
formats, same msgpack allowlist) that keeps the decoded form of the largest
recent blobs, keyed by a digest of their bytes: a changed blob is a new key,
so nothing is ever invalidated. Every read gets its own dicts and lists, so a
caller that changes the checkpoint it got changes nobody else's; the messages
themselves are shared between reads, as LangGraph's reducers and this graph
never change a message in place (they return new ones).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.serde.types import _DeltaSnapshot

MIN_BYTES = 32 * 1024
"""Smaller blobs (a turn's own writes, checkpoints without a full copy) decode as usual."""

MAX_BYTES = 8 * 1024 * 1024
"""Bytes of blobs whose decoded form is kept: the full copies of some 25 threads of 1,000 turns."""


class _Recent:
    """Decoded values by blob digest, least recently used first, within ``MAX_BYTES`` of blobs."""

    def __init__(self, max_bytes: int) -> None:
        self._values: OrderedDict[bytes, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._max_bytes = max_bytes
        self._lock = threading.Lock()

    def get(self, key: bytes) -> Any | None:
        with self._lock:
            entry = self._values.get(key)
            if entry is None:
                return None
            self._values.move_to_end(key)
            return entry[0]

    def put(self, key: bytes, value: Any, size: int) -> None:
        with self._lock:
            if key in self._values or size > self._max_bytes:
                return
            self._values[key] = (value, size)
            self._bytes += size
            while self._bytes > self._max_bytes:
                _, (_, dropped) = self._values.popitem(last=False)
                self._bytes -= dropped


def fresh(value: Any) -> Any:
    """Return ``value`` with new dicts, lists, tuples and sets; everything else is shared."""
    if isinstance(value, dict):
        return {key: fresh(item) for key, item in value.items()}
    if isinstance(value, list):
        return [fresh(item) for item in value]
    if isinstance(value, _DeltaSnapshot):
        return _DeltaSnapshot(fresh(value.value))
    if type(value) is tuple:
        return tuple(fresh(item) for item in value)
    if isinstance(value, set):
        return set(value)
    return value


class RecentBlobsSerializer(JsonPlusSerializer):
    """``JsonPlusSerializer`` that decodes each large recent blob only once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Take ``JsonPlusSerializer``'s arguments; start with nothing decoded."""
        super().__init__(*args, **kwargs)
        self._recent = _Recent(MAX_BYTES)

    def with_msgpack_allowlist(
        self, extra_allowlist: Iterable[tuple[str, ...] | type]
    ) -> JsonPlusSerializer:
        """Return the serializer for a wider allowlist, with values decoded under it only."""
        clone = super().with_msgpack_allowlist(extra_allowlist)
        if clone is not self and isinstance(clone, RecentBlobsSerializer):
            clone._recent = _Recent(MAX_BYTES)
        return clone

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """Decode ``data``, or copy what the same bytes decoded to before."""
        kind, blob = data
        if len(blob) < MIN_BYTES:
            return super().loads_typed(data)
        digest = hashlib.blake2b(kind.encode(), digest_size=20)
        digest.update(blob)
        key = digest.digest()
        known = self._recent.get(key)
        if known is None:
            known = super().loads_typed(data)
            self._recent.put(key, known, len(blob))
        return fresh(known)
