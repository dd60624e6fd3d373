"""What request handlers share: this app's job service (built in the lifespan)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from montesim.jobs.service import Service


def services(conn: HTTPConnection) -> Service:
    return conn.app.state.service  # type: ignore[no-any-return]


__all__ = ["Service", "services"]
