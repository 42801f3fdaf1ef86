"""The web workspace (`riskplan serve`): the quarter's work in a browser, over the same files
and the same library functions as the command line. See docs/web.md."""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
