#!/usr/bin/env python3
"""Healthcheck for every role the montesim image runs (standard library only).

    montesim-healthcheck http://127.0.0.1:8000/api/healthz   # API: store readable and writable
    montesim-healthcheck http://127.0.0.1:9100/metrics       # montesim worker: its heartbeat
    montesim-healthcheck http://127.0.0.1:8787/health        # Dask scheduler or worker

Exit 0 when healthy, 1 otherwise with one line on stderr saying why (what
``docker inspect`` shows). A URL ending in ``/metrics`` is a montesim worker's metrics
port: healthy while ``montesim_worker_heartbeat_age_seconds`` is at most ``--max-age``
seconds (default ``MONTESIM_LEASE_SECONDS``, else 15): a worker that cannot reach the
store stops heartbeating long before its process dies. Any other URL is healthy on 200.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import urllib.error
import urllib.request

HEARTBEAT_AGE = re.compile(r"^montesim_worker_heartbeat_age_seconds(?:\{[^}]*\})? (\S+)$", re.M)


def check(url: str, max_age: float, timeout: float) -> str | None:
    """None when healthy, else why not."""
    # no proxies: the URL is this container's own port, whatever HTTP_PROXY says
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as resp:
            body = resp.read(1 << 20).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return f"{url} answered {exc.code}: {exc.read(300).decode('utf-8', 'replace')}"
    except (OSError, ValueError) as exc:
        return f"{url} did not answer: {exc}"
    if not url.rstrip("/").endswith("/metrics"):
        return None
    found = HEARTBEAT_AGE.search(body)
    if found is None:
        return f"{url} has no montesim_worker_heartbeat_age_seconds: not a montesim worker?"
    age = float(found.group(1))
    if age > max_age:
        return f"last heartbeat {age:.1f} s ago (more than {max_age:g} s): is the store reachable?"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument(
        "--max-age",
        type=float,
        default=float(os.environ.get("MONTESIM_LEASE_SECONDS") or 15),
        help="seconds a worker's heartbeat may be old (default: MONTESIM_LEASE_SECONDS or 15)",
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for an answer")
    args = parser.parse_args(argv)
    problem = check(args.url, args.max_age, args.timeout)
    if problem is not None:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
