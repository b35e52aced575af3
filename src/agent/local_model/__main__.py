"""Entry point: ``python -m agent.local_model --port N``."""

from agent.local_model.server import main

main()
