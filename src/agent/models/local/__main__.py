"""Entry point: ``python -m agent.models.local --port N``."""

from agent.models.local.server import main

main()
