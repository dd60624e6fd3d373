"""The database tables (SQLAlchemy 2 Core). Alembic migrations create them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
EventId = BigInteger().with_variant(Integer(), "sqlite")

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("engine", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("label", String(200)),
    Column("spec", JSON, nullable=False),
    Column("spec_summary", String(200), nullable=False, default=""),
    Column("idempotency_key", String(200), unique=True),
    Column("request_hash", String(64)),
    Column("batch_id", String(36)),
    Column("file_id", String(36)),  # the uploaded file the spec names, if any
    # who submitted it: "token:NAME" with tokens on, else "client:ADDRESS" (visibility,
    # quotas, retention)
    Column("owner", String(200)),
    # admission: higher priority first; a resource class's running jobs may be capped
    Column("priority", Integer, nullable=False, default=0),
    Column("resource_class", String(32), nullable=False, default="cpu"),
    Column("time_limit", Float),  # seconds from its start; past it the job ends in error
    Column("created_at", Float, nullable=False),
    Column("queued_at", Float, nullable=False),
    Column("started_at", Float),
    Column("completed_at", Float),
    Column("updated_at", Float, nullable=False),
    # progress: counted from persisted chunks only
    Column("done_units", BigInteger, nullable=False, default=0),
    Column("total_units", BigInteger, nullable=False, default=0),
    Column("unit", String(32), nullable=False, default="units"),
    Column("progress", Float, nullable=False, default=0.0),
    Column("stage", String(64), nullable=False, default="waiting"),
    Column("stage_message", String(500)),
    Column("chunks_total", Integer, nullable=False, default=0),
    Column("chunks_done", Integer, nullable=False, default=0),
    # work done during the current attempt, for the rate and ETA
    Column("attempt_started_at", Float),
    Column("attempt_done_units", BigInteger, nullable=False, default=0),
    # the rate's clock: from the start of the first chunk this attempt persisted (time
    # spent waiting for a pool slot before it is not work on this job)
    Column("rate_since", Float),
    Column("progress_at", Float),
    Column("stalled", Boolean, nullable=False, default=False),
    Column("error_code", String(64)),
    Column("error_message", Text),
    Column("error_detail", Text),
    Column("cancellation_requested", Boolean, nullable=False, default=False),
    # a cancel that came while merging: the finished result was kept (see request_cancel)
    Column("cancel_late", Boolean, nullable=False, default=False),
    Column("attempt", Integer, nullable=False, default=0),
    Column("lease_owner", String(200)),
    Column("lease_expires_at", Float),
    Column("heartbeat_at", Float),
    Index("ix_jobs_status_queued", "status", "queued_at"),
    Index("ix_jobs_created", "created_at"),
    Index("ix_jobs_batch", "batch_id"),
    Index("ix_jobs_file", "file_id"),
    Index("ix_jobs_owner_status", "owner", "status"),
)

job_results = Table(
    "job_results",
    metadata,
    Column("job_id", String(36), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("summary", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

job_artifacts = Table(
    "job_artifacts",
    metadata,
    Column("job_id", String(36), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("media_type", String(100), nullable=False),
    Column("data", LargeBinary, nullable=False),
)

job_chunks = Table(
    "job_chunks",
    metadata,
    Column("job_id", String(36), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("chunk_index", Integer, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("seconds", Float, nullable=False, default=0.0),
    Column("created_at", Float, nullable=False),
)

job_events = Table(
    "job_events",
    metadata,
    Column("id", EventId, primary_key=True, autoincrement=True),
    Column("job_id", String(36), nullable=False),
    Column("ts", Float, nullable=False),
    Column("kind", String(16), nullable=False),  # status | progress | stage
    Column("data", JSON, nullable=False),
    Index("ix_job_events_job", "job_id", "id"),
    # Event ids are stream cursors (Last-Event-ID): SQLite must never reuse one after
    # the newest job's events are deleted.
    sqlite_autoincrement=True,
)

# A batch groups jobs (jobs.batch_id); its status and progress are computed from them.
batches = Table(
    "batches",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("label", String(200)),
    Column("fail_fast", Boolean, nullable=False, default=False),
    Column("cancellation_requested", Boolean, nullable=False, default=False),
    Column("owner", String(200)),  # as jobs.owner
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_batches_created", "created_at"),
    Index("ix_batches_owner", "owner"),
)

files = Table(
    "files",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("filename", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("owner", String(200)),  # as jobs.owner: whoever uploaded it
    Column("created_at", Float, nullable=False),
    Index("ix_files_owner", "owner"),
)

# Uploaded files' bytes in the database (the default on PostgreSQL), in parts of at most
# BLOB_PART bytes, so workers on other machines read them without a shared disk.
file_blobs = Table(
    "file_blobs",
    metadata,
    Column("file_id", String(36), ForeignKey("files.id", ondelete="CASCADE"), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)
BLOB_PART = 1 << 20

# Small store-wide facts: the health probe's last write, store-wide settings.
meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON),
    Column("updated_at", Float, nullable=False),
)

# A studio "model setup": the inputs, outputs, fixed cells and run settings a user defined
# on a workbook, saved by name. Found again by file name (a re-upload of the same workbook
# gets a new file id) or content hash.
model_setups = Table(
    "model_setups",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("file_id", String(36), nullable=False),
    Column("definition", JSON, nullable=False),
    Column("owner", String(200)),  # as jobs.owner; a name is unique per owner and file name
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("owner", "filename", "name", name="uq_model_setups_owner_filename_name"),
    Index("ix_model_setups_sha256", "sha256"),
)

# Every montesim process (server, API-only server, worker) heartbeats its row here, so
# operators can list them (GET /api/workers); rows of stopped processes are removed.
workers = Table(
    "workers",
    metadata,
    Column("id", String(200), primary_key=True),  # the scheduler owner name, or host:pid:tag
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("role", String(16), nullable=False),  # serve | api | worker
    Column("version", String(64), nullable=False),
    Column("executor", String(16)),  # local | dask | inline; None for an API-only server
    Column("jobs", JSON, nullable=False),  # ids of the jobs it runs now
    Column("chunks_done", BigInteger, nullable=False, default=0),
    Column("dask_workers", Integer),  # Dask workers its client sees (dask executor only)
    Column("dashboard", String(500)),  # the Dask dashboard's link, when its scheduler has one
    Column("problem", String(1000)),  # why it refuses jobs (see montesim.portable)
    Column("started_at", Float, nullable=False),
    Column("heartbeat_at", Float, nullable=False),
)

# API tokens (MONTESIM_AUTH=tokens): only a SHA-256 of each token is kept. A token's
# name is its owner ("token:NAME"); a new token may reuse the name of a revoked one.
tokens = Table(
    "tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("admin", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
    Column("last_used_at", Float),
    Index("ix_tokens_name", "name"),
)
