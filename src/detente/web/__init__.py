"""The local web dashboard: a FastAPI app and one page (no build step)."""

from detente.web.app import create_app

__all__ = ["create_app"]
