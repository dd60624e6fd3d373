"""The Engine protocol, the errors engines raise, and the registry (entry points).

An engine is pure computation: it never touches the database or HTTP. The jobs layer
calls ``validate`` once (in the worker, stage ``validating``), asks for ``chunks``, runs
``run_chunk`` for each chunk (in other processes, possibly on other machines) and
finally ``merge``s the persisted partials.
Plans and partials must be picklable and small.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from montesim.errors import Cancelled, EngineError, InputError

__all__ = ["Cancelled", "EngineError", "InputError"]  # re-exported for engines and plug-ins

ENTRY_POINT_GROUP = "montesim.engines"

# file_id -> path of the uploaded file on local disk
Files = Mapping[str, Path]


@dataclass(frozen=True)
class Chunk:
    """A slice of a job's work: ``size`` units starting at unit ``start``."""

    index: int
    start: int
    size: int


@dataclass
class Result:
    """What ``merge`` returns: a JSON-able summary plus optional downloadable artifacts.

    ``artifacts`` maps a name (``"iterations.parquet"``) to ``(media_type, bytes)``; a
    :class:`LazyArtifacts` builds them only when read.
    """

    summary: dict[str, Any]
    artifacts: Mapping[str, tuple[str, bytes]] = field(default_factory=dict)
    # In-process runs only (montesim.simulate): the engine's full data, never stored.
    data: Any = None


class LazyArtifacts(Mapping[str, tuple[str, bytes]]):
    """Artifacts built on first use, once: a caller that never reads them (an in-process
    run, ``montesim.simulate``) does not pay for them."""

    def __init__(self, build: Callable[[], dict[str, tuple[str, bytes]]]) -> None:
        self._build = build

    @cached_property
    def _built(self) -> dict[str, tuple[str, bytes]]:
        return self._build()

    def __getitem__(self, name: str) -> tuple[str, bytes]:
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._built)

    def __len__(self) -> int:
        return len(self._built)


class ChunkContext(Protocol):
    """What a running chunk may use: report progress inside it, and check for cancel.

    ``report`` is informational (stage and message); the job's progress fraction only
    moves when a chunk's partial is persisted. ``previous`` is the partial of the
    preceding chunk for sequential engines (checkpointed solvers), else ``None``.
    """

    previous: Any

    def report(self, done: int, stage: str | None = None, message: str | None = None) -> None: ...

    def cancelled(self) -> bool: ...


class NullContext:
    """A context for running chunks outside any job (tests, notebooks)."""

    def __init__(self, previous: Any = None) -> None:
        self.previous = previous

    def report(self, done: int, stage: str | None = None, message: str | None = None) -> None:
        return None

    def cancelled(self) -> bool:
        return False


@runtime_checkable
class Engine(Protocol):
    """The shape every engine has. See DESIGN.md, 'Engine protocol'."""

    name: ClassVar[str]
    unit: ClassVar[str]  # what a work unit is called: "iterations", "trials", "steps"
    resumable: ClassVar[bool]  # False: a restart mid-run ends the job in error
    sequential: ClassVar[bool]  # True: chunk k needs chunk k-1's partial (ctx.previous)

    def spec_schema(self) -> dict[str, Any]:
        """JSON schema of the spec."""
        ...

    def example_spec(self) -> dict[str, Any]:
        """A small runnable spec that needs no uploaded file."""
        ...

    def validate(self, spec: dict[str, Any], files: Files) -> Any:
        """Check the spec and build a picklable plan; raise InputError on bad input."""
        ...

    def chunks(self, plan: Any) -> list[Chunk]: ...

    def run_chunk(self, plan: Any, chunk: Chunk, ctx: ChunkContext) -> Any: ...

    def merge(self, plan: Any, partials: Sequence[Any]) -> Result:
        """Partials in chunk order; a lazy sequence (each read from the store on access)."""
        ...


# Optional, for engines whose validation reads big inputs (a workbook to compile):
#
#   resource_class: ClassVar[str] = "cpu"
#       the admission class of its jobs; MONTESIM_CLASS_LIMITS caps how many of a class
#       run at once (the horn engine's "bem" jobs take minutes per chunk);
#
#   heavy_validation: ClassVar[bool] = True
#       the worker plans the job in a child process with CPU-time and memory limits,
#       killed at once when the job is cancelled;
#   def check(self, spec, files) -> int | None
#       what submit runs instead of ``validate``: cheap checks only (the spec's shape,
#       that its files exist and are the right kind of container), nothing that grows
#       with the input's size; returns the planned work units when known.
#   user_facing: ClassVar[bool] = False
#       keeps the engine out of the web UI's menus (engines for tests and demonstrations);
#       it still runs through the API and the CLI, and a link to #/new?engine=NAME still
#       opens its form. Default True: read it with ``is_user_facing(engine)``.
#   def warm_up(self) -> None
#       compile or load now what the first chunk in a new process would pay for (a JIT's
#       kernels); each worker process runs it on a background thread as it starts when
#       the engine is named in MONTESIM_WARM_ENGINES. It must not hold up chunks.


def is_user_facing(engine: object) -> bool:
    """Whether the web UI offers ``engine`` in its menus (``user_facing``, default True)."""
    return bool(getattr(engine, "user_facing", True))


def describe_spec(spec: dict[str, Any]) -> str:
    """A one-line summary of a spec for job lists."""
    parts = []
    for key, value in spec.items():
        if isinstance(value, str | int | float | bool) and len(parts) < 4:
            parts.append(f"{key}={value}")
    return ", ".join(parts)[:200]


def split_units(total: int, chunk_size: int) -> list[Chunk]:
    """Cut ``total`` units into chunks of at most ``chunk_size`` (the last may be short)."""
    if total <= 0:
        return [Chunk(index=0, start=0, size=0)]
    chunk_size = max(1, int(chunk_size))
    return [
        Chunk(index=i, start=start, size=min(chunk_size, total - start))
        for i, start in enumerate(range(0, total, chunk_size))
    ]


def _load(ep: Any) -> type | None:
    try:
        return ep.load()
    except Exception as exc:  # a broken plug-in must not take the server down
        import logging

        logging.getLogger(__name__).error("engine %s failed to load: %s", ep.name, exc)
        return None


@cache
def _discover() -> dict[str, type]:
    """Every registered engine's class (each engine's modules imported)."""
    found = {ep.name: _load(ep) for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return {name: cls for name, cls in found.items() if cls is not None}


@cache
def _engine_class(name: str) -> type | None:
    """The class registered under ``name``, importing that engine's modules only."""
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=name):
        return _load(ep)
    return None


_extra: dict[str, type] = {}


def register(engine_cls: type) -> type:
    """Register an engine class by its ``name`` (for tests and in-process use)."""
    _extra[engine_cls.name] = engine_cls
    get_engine.cache_clear()
    return engine_cls


def engine_names() -> list[str]:
    return sorted({**_discover(), **_extra})


@cache
def get_engine(name: str) -> Engine:
    """The engine instance registered under ``name``; InputError if unknown."""
    cls = _extra.get(name) or _engine_class(name)
    if cls is None:
        raise InputError(
            f"Unknown engine {name!r}; registered engines: {', '.join(engine_names())}",
            code="unknown_engine",
            location="engine",
        )
    return cls()
