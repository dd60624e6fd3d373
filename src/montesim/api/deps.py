"""What request handlers share: this app's job service (built in the lifespan)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from montesim.jobs.service import Service


def services(conn: HTTPConnection) -> Service:
    service: Service = conn.app.state.service
    return service


__all__ = ["Service", "services"]
