"""Entry point: ``python -m agent.models.local --model FILE --port N``."""

from agent.models.local.server import main

main()
