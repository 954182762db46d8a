"""Fixtures of the annotate tests live in tests/conftest.py (shared with tests/train)."""

from tests.conftest import LiveStudio, free_port

__all__ = ["LiveStudio", "free_port"]
