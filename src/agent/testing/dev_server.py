"""Run a real ``langgraph dev`` server for tests, in its own working directory.

The server gets a copy of ``langgraph.json`` whose paths point back into this
checkout, so its ``.langgraph_api/`` state and its log stay in a temporary
directory and never touch the developer's own dev server.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from agent.models.local.launcher import free_port
from agent.testing import scripted_model

PROJECT_ROOT = Path(__file__).resolve().parents[3]
LANGGRAPH_CLI = Path(sys.executable).with_name("langgraph")
CHATBOT_CLI = Path(sys.executable).with_name("chatbot")
STARTUP_TIMEOUT_S = 300.0
_API_LINE = re.compile(r"API: (?:\x1b\[[0-9;]*m)?(http://[\w.\-]+:\d+)")

RUNNING: list[DevServer] = []
"""The servers this process has started and not stopped (for failure reports)."""


def _absolute(path_spec: str) -> str:
    file, _, attribute = path_spec.partition(":")
    return f"{(PROJECT_ROOT / file).resolve()}:{attribute}"


def write_config(workdir: Path, **overrides: object) -> Path:
    """Write the project's ``langgraph.json`` into ``workdir`` with absolute paths."""
    config = json.loads((PROJECT_ROOT / "langgraph.json").read_text())
    config["dependencies"] = [str(PROJECT_ROOT)]
    config["graphs"] = {name: _absolute(spec) for name, spec in config["graphs"].items()}
    sections = (("http", "app"), ("auth", "path"), ("checkpointer", "path"), ("store", "path"))
    for section, key in sections:
        if key in config.get(section, {}):
            config[section][key] = _absolute(config[section][key])
    config.pop("env", None)
    config.update(overrides)
    path = workdir / "langgraph.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def server_environment(**extra: str) -> dict[str, str]:
    """Environment of a test server: the embedded model, no tracing, no outside calls.

    Memory across conversations is off unless ``CHATBOT_REMEMBER="true"`` is
    passed: tests that prove one thread's transcript stays in that thread, or
    that script the model's replies one by one, stay about that.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPENAI_", "CHATBOT_", "LANGSMITH_", "LANGCHAIN_"))
    }
    env.update(
        LANGSMITH_TRACING="false",
        LANGGRAPH_CLI_NO_ANALYTICS="1",
        PYTHONUNBUFFERED="1",
    )
    env["CHATBOT_REMEMBER"] = "false"
    if "CHATBOT_CACHE_DIR" in os.environ:
        env["CHATBOT_CACHE_DIR"] = os.environ["CHATBOT_CACHE_DIR"]
    env.update(extra)
    return env


@dataclass
class DevServer:
    """A ``langgraph dev`` process serving this project from ``workdir``."""

    workdir: Path
    port: int
    env: dict[str, str] = field(default_factory=server_environment)
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    url: str = ""
    starts: int = 0

    @property
    def log_path(self) -> Path:
        """The current start's log file (one per start, so a restart keeps the old log)."""
        return self.workdir / f"server-{self.starts}.log"

    def start(self) -> str:
        """Start the server and return its URL once it answers."""
        self.starts += 1
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                str(LANGGRAPH_CLI),
                "dev",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-browser",
                "--no-reload",
                *self.extra_args,
            ],
            cwd=self.workdir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        RUNNING.append(self)
        self.url = self._wait_until_ready()
        return self.url

    def _wait_until_ready(self) -> str:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        url = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"langgraph dev exited early:\n{self.log()}")
            if not url and (match := _API_LINE.search(self.log())):
                url = match.group(1)
            if url:
                try:
                    if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                        return url
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"langgraph dev did not become ready:\n{self.log()}")

    def log(self) -> str:
        """Return the current start's log."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: signal.Signals = signal.SIGINT) -> None:
        """Stop the server (SIGINT: a clean shutdown that flushes its state) and its children."""
        RUNNING[:] = [server for server in RUNNING if server is not self]
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        finally:
            # Nothing the server started (the embedded model) may outlive it.
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@contextmanager
def dev_server_with_scripted_model(
    workdir: Path, extra_args: Sequence[str] = (), **env: str
) -> Iterator[tuple[DevServer, str]]:
    """Run the scripted model and a dev server in ``workdir`` that uses it.

    Yields:
        The running server and the model's base URL.
    """
    with scripted_model.running() as model_url:
        write_config(workdir)
        server = DevServer(
            workdir=workdir,
            port=free_port(),
            env=server_environment(OPENAI_BASE_URL=model_url, OPENAI_API_KEY="scripted", **env),
            extra_args=list(extra_args),
        )
        server.start()
        try:
            yield server, model_url
        finally:
            server.stop()
