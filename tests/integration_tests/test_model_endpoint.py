"""The model endpoint as clients see it: one answer to "which model?", from the server itself."""

from __future__ import annotations

from pathlib import Path

import httpx
from langgraph_sdk import get_client

from agent.testing import scripted_model
from agent.testing.dev_server import dev_server_with_scripted_model

from .helpers import say


async def test_a_compatible_server_without_a_model_name_is_asked_what_it_serves(
    tmp_path: Path,
) -> None:
    with dev_server_with_scripted_model(tmp_path) as (server, _model_url):
        info = httpx.get(f"{server.url}/chatbot/model", timeout=10).json()
        assert info["model"] == scripted_model.SERVED_MODEL, info
        assert info["endpoint"].startswith("http://127.0.0.1:"), info

        client = get_client(url=server.url, api_key=None)
        thread = (await client.threads.create())["thread_id"]
        values = await say(client, thread, "Hello there")
        assert scripted_model.settings.last_request["model"] == scripted_model.SERVED_MODEL
        reply = values["messages"][-1]
        assert reply["response_metadata"]["model_name"] == scripted_model.SERVED_MODEL
