"""The deployment files: langgraph.json builds an image, the compose file wires it up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
LANGGRAPH = Path(sys.executable).with_name("langgraph")


def test_langgraph_json_is_valid() -> None:
    result = subprocess.run(
        [str(LANGGRAPH), "validate"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout
    assert "warning" not in (result.stdout + result.stderr).lower()


def test_dockerfile_carries_graph_checkpointer_and_app(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    result = subprocess.run(
        [str(LANGGRAPH), "dockerfile", str(dockerfile)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = dockerfile.read_text()
    # langgraph dockerfile names the package folder after the checkout's own folder.
    assert f"/deps/{ROOT.name}/src/agent/graph.py:builder" in text
    assert (
        "LANGGRAPH_CHECKPOINTER" in text
        and "src/agent/storage/checkpointer.py:checkpointer" in text
    )
    assert "LANGGRAPH_HTTP" in text and "src/agent/server/webapp.py:app" in text


def test_compose_runs_the_server_on_postgres_and_redis() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    services = compose["services"]
    api = services["langgraph-api"]
    assert set(api["depends_on"]) == {"langgraph-redis", "langgraph-postgres"}
    assert api["environment"]["REDIS_URI"].startswith("redis://langgraph-redis")
    assert "@langgraph-postgres:5432/" in api["environment"]["POSTGRES_URI"]
    assert "8000" in api["ports"][0]


def test_docker_context_leaves_out_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv/", ".langgraph_api/", ".chatbot/", ".env"} <= set(ignored)
