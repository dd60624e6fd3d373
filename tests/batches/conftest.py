"""The live server fixtures shared with the other stream, batch and metrics tests."""

from tests.streams.live import client, server  # noqa: F401
