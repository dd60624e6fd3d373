"""Settings from MONTESIM_* environment variables."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MONTESIM_", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = ""  # default: sqlite at <data_dir>/montesim.db
    host: str = "127.0.0.1"
    port: int = 8000

    executor: str = "local"  # "local" (process pool) or "dask"
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1)
    dask_scheduler: str = ""  # tcp://host:8786; empty = start a LocalCluster
    dask_connect_seconds: float = 10.0  # a scheduler not reached by then is an error
    chunk_attempts: int = 5  # sends of one chunk the cluster may lose before the job fails

    # Engines whose warm_up each worker process runs on a background thread as it starts
    # (comma-separated, e.g. "horn": bempp-cl's kernels compile there, not in a job)
    warm_engines: str = ""

    max_concurrent_jobs: int = 1
    # resource class -> jobs of that class running at once, e.g. {"bem": 1}: a class of long
    # jobs (horn solves) can then never take every slot from the others
    class_limits: dict[str, int] = {}
    job_time_limit_seconds: float = 0.0  # a job's default time limit from its start; 0: none
    # Planning a job (reading and compiling a workbook) runs in a child process with limits.
    validate_cpu_seconds: int = 600
    validate_memory_mb: int = 8192
    plan_cache_mb: int = 256  # compiled plans kept in memory
    # ... and on disk (signed), so a second run of the same model in another process skips
    # reading and compiling; 0 keeps them in memory only. The folder defaults to
    # <data_dir>/plan-cache for the server, and to the user's cache folder
    # (~/.cache/montesim/plans) for runs in one process (montesim.simulate, the CLI).
    plan_cache_disk_mb: int = 1024
    plan_cache_dir: Path | None = None
    lease_seconds: float = 15.0
    heartbeat_seconds: float = 1.0
    poll_seconds: float = 0.5
    recovery_seconds: float = 1.0
    # a job's owner whose liveness lock and heartbeat are gone this long is dead (> heartbeat)
    liveness_grace_seconds: float = 3.0
    drain_seconds: float = 20.0  # on SIGTERM: wait this long for chunks in flight

    retention_days: float = 30.0
    retention_max_jobs: int = 1000  # finished jobs kept per owner
    retention_min_age: float = 86400.0  # seconds: no finished job younger is ever pruned

    max_queued_per_owner: int = 100  # queued jobs one owner (client) may have; 0: no limit
    quota_retry_seconds: int = 30  # the Retry-After of a 429

    # Where uploaded files' bytes live for the workers: "database" (the default on
    # PostgreSQL: no shared disk needed), "disk" (the data folder; the SQLite default), or
    # an object store URL such as s3://bucket/prefix (fsspec; montesim[s3] for S3).
    file_store: str = ""
    file_store_options: dict[str, Any] = {}  # JSON: fsspec arguments (endpoint_url, ...)
    max_upload_bytes: int = 50 * 1024 * 1024
    stall_floor_seconds: float = 30.0
    sse_heartbeat_seconds: float = 15.0
    stream_poll_seconds: float = 0.1  # catches events other processes write
    stream_coalesce_seconds: float = 0.1  # at most 10 progress events per second per job
    log_format: str = "text"  # or "json"
    secret_key: str = ""  # signs partials and tickets; empty: the key the store made once

    # Who may ask (montesim.api.auth): "none" (everyone who reaches the port; `serve`
    # refuses a non-loopback bind without --insecure) or "tokens" (Bearer tokens made with
    # `montesim token create`; each token's jobs, files, batches and setups are its own).
    auth: Literal["none", "tokens"] = "none"
    metrics_token: str = ""  # when set, /metrics needs it as a Bearer token
    ticket_seconds: float = 60.0  # life of a stream ticket (?ticket= on SSE and WebSocket)
    submits_per_minute: int = 0  # jobs one owner may submit per minute; 0: no limit

    # Cross-site protection (montesim.api.guard); comma-separated lists.
    allowed_hosts: str = ""  # Host names answered; default the bound host and loopback
    allowed_origins: str = ""  # origins besides the server's own that may send requests
    cors_origins: str = ""  # origins granted CORS (closed by default)

    # Limits before work (montesim.api.bodies, jobs.service); each refusal names its limit.
    max_json_bytes: int = 8 * 1024 * 1024  # any request body but uploads
    max_json_depth: int = 64
    max_json_string: int = 10_000  # characters in one JSON string (labels, cells, names)
    job_memory: int = 8 * 1024**3  # bytes a job's results may need (iterations x outputs)

    @field_validator("file_store")
    @classmethod
    def _file_store(cls, value: str) -> str:
        if value in ("", "database", "disk") or "://" in value:
            return value
        raise ValueError(
            "MONTESIM_FILE_STORE must be 'database', 'disk' or an object store URL "
            f"such as s3://bucket/prefix, not {value!r}"
        )

    @cached_property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'montesim.db').as_posix()}"

    @property
    def warm_engine_names(self) -> tuple[str, ...]:
        return tuple(n.strip() for n in self.warm_engines.split(",") if n.strip())

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def file_cache_dir(self) -> Path:
        """Files fetched from the store, by content hash."""
        return self.data_dir / "file-cache"

    @property
    def files_in_store(self) -> bool:
        return (self.file_store or ("disk" if self.url.startswith("sqlite") else "database")) == (
            "database"
        )

    @property
    def plan_cache_path(self) -> Path:
        return self.plan_cache_dir or self.data_dir / "plan-cache"

    @property
    def cancel_dir(self) -> Path:
        return self.data_dir / "cancel"
