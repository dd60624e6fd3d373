"""What request handlers share: this app's job service (built in the lifespan), and who
is asking."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from montesim.jobs.service import Service


def services(conn: HTTPConnection) -> Service:
    service: Service = conn.app.state.service
    return service


def owner_of(conn: HTTPConnection) -> str:
    """Who is asking, for quotas and retention: the client's address (behind a proxy,
    the proxy's)."""
    host = conn.client.host if conn.client else "unknown"
    return f"client:{host}"


__all__ = ["Service", "owner_of", "services"]
