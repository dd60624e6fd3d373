"""What request handlers share: this app's job service (built in the lifespan), and who
is asking (the Principal the auth middleware, montesim.api.auth, puts on the request)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from montesim.jobs.model import Principal
from montesim.jobs.service import Service

PRINCIPAL = "montesim.principal"  # the ASGI scope key the auth middleware sets


def services(conn: HTTPConnection) -> Service:
    service: Service = conn.app.state.service
    return service


def client_owner(conn: HTTPConnection) -> str:
    """The client's address as an owner (behind a proxy, the proxy's)."""
    host = conn.client.host if conn.client else "unknown"
    return f"client:{host}"


def principal_of(conn: HTTPConnection) -> Principal:
    found: Principal | None = conn.scope.get(PRINCIPAL)
    return found if found is not None else Principal(client_owner(conn))


def owner_of(conn: HTTPConnection) -> str:
    """The owner recorded on what this request creates (quotas, retention, visibility)."""
    return principal_of(conn).owner


def visible_to(conn: HTTPConnection) -> str | None:
    """The owner whose jobs, files, batches and setups this request may see; None: all."""
    return principal_of(conn).visible


__all__ = ["Service", "owner_of", "principal_of", "services", "visible_to"]
