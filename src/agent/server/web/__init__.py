"""The chat page: static files served by the deployable's own HTTP app."""
