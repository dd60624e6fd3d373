"""A closed triangle surface mesh with surface tags: checks, orientation, .msh in and out.

Tags: 1 = wall (rigid), 2 = source (the throat: unit normal velocity), 3 = secondary
(rigid enclosure), 4 = interface. Coordinates are metres.

An interface, in ATH's meshes for ABEC, is the open surface between two acoustic
subdomains (typically across the horn mouth, splitting the air inside the horn from the
air outside). It is air on both sides, not a boundary. montesim solves one exterior
domain, so an interface has no part in the solve: ``without_interface`` removes tag-4
triangles from a user's mesh (with a warning), and what is left must be closed. Treating
them as rigid instead would put a lid on the horn's mouth.

A *baffled* mesh ends on an infinite rigid baffle, the plane z = 0: it lies in front of
it (z >= 0, the side of the observation points) and its open rim lies in the plane.
``check_baffled`` checks that; ``mirrored`` adds its image behind the plane, and the
closed body so made, solved in free space, has the baffled mesh's field in front of the
plane (the image method: by symmetry the normal velocity on z = 0 vanishes).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from montesim.errors import InputError

WALL, SOURCE, SECONDARY, INTERFACE = 1, 2, 3, 4
TAGS = (WALL, SOURCE, SECONDARY, INTERFACE)
BAFFLE_TOLERANCE = 1e-6  # of the mesh's size: how far from z = 0 a vertex is "on" the baffle


@dataclass(frozen=True)
class Mesh:
    vertices: np.ndarray  # (n, 3) float64, metres
    triangles: np.ndarray  # (m, 3) int32, outward (into the air) by the right-hand rule
    tags: np.ndarray  # (m,) int32

    @property
    def triangle_count(self) -> int:
        return int(len(self.triangles))

    def areas(self) -> np.ndarray:
        v = self.vertices[self.triangles]
        return 0.5 * np.linalg.norm(np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0]), axis=1)

    def max_edge(self) -> float:
        v = self.vertices[self.triangles]
        edges = np.stack([v[:, 1] - v[:, 0], v[:, 2] - v[:, 1], v[:, 0] - v[:, 2]], axis=1)
        return float(np.linalg.norm(edges, axis=2).max())

    def max_edge_by_tag(self) -> dict[int, float]:
        """The longest edge (m) of each surface tag present."""
        v = self.vertices[self.triangles]
        edges = np.stack([v[:, 1] - v[:, 0], v[:, 2] - v[:, 1], v[:, 0] - v[:, 2]], axis=1)
        longest = np.linalg.norm(edges, axis=2).max(axis=1)
        return {int(t): float(longest[self.tags == t].max()) for t in np.unique(self.tags)}

    def stats(self) -> dict:
        counts = {str(t): int(np.sum(self.tags == t)) for t in TAGS if np.any(self.tags == t)}
        return {
            "triangles": self.triangle_count,
            "vertices": int(len(self.vertices)),
            "triangles_by_tag": counts,
            "max_edge_m": self.max_edge(),
            "max_edge_m_by_tag": {str(t): e for t, e in self.max_edge_by_tag().items()},
            "source_area_m2": float(self.areas()[self.tags == SOURCE].sum()),
        }


def without_interface(mesh: Mesh) -> tuple[Mesh, int]:
    """The mesh less its interface triangles (tag 4), and how many were removed."""
    tags = np.asarray(mesh.tags)
    triangles = np.asarray(mesh.triangles)
    if tags.ndim != 1 or triangles.ndim != 2 or len(tags) != len(triangles):
        return mesh, 0  # ``check`` names the mismatch
    interface = tags == INTERFACE
    count = int(interface.sum())
    if not count:
        return mesh, 0
    return Mesh(mesh.vertices, triangles[~interface], tags[~interface]), count


def _edges(triangles: np.ndarray) -> np.ndarray:
    """Directed edges (3m, 2) in triangle order."""
    t = triangles
    return np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]])


def check(
    mesh: Mesh, *, location: str, max_triangles: int, closed: bool = True, hint: str = ""
) -> Mesh:
    """Refuse degenerate, duplicate, open or inconsistently oriented meshes; orient outward.

    A consistently oriented closed mesh whose normals point inward is flipped, not refused.
    """
    v, t, tags = mesh.vertices, mesh.triangles, mesh.tags
    if v.ndim != 2 or v.shape[1] != 3 or len(v) < 4:
        raise InputError("vertices must be a list of [x, y, z]", location=f"{location}.vertices")
    if not np.all(np.isfinite(v)):
        raise InputError("vertices must be finite numbers", location=f"{location}.vertices")
    if t.ndim != 2 or t.shape[1] != 3 or len(t) < 4:
        raise InputError(
            "triangles must be a list of [i, j, k] (at least 4)", location=f"{location}.triangles"
        )
    if len(t) > max_triangles:
        raise InputError(
            f"the mesh has {len(t):,} triangles, above the limit of {max_triangles:,}",
            location=f"{location}.triangles",
            code="mesh_too_large",
        )
    if t.min() < 0 or t.max() >= len(v):
        raise InputError("a triangle refers to a missing vertex", location=f"{location}.triangles")
    if tags.shape != (len(t),):
        raise InputError("give one tag per triangle", location=f"{location}.tags")
    unknown = sorted(set(np.unique(tags).tolist()) - set(TAGS))
    if unknown:
        raise InputError(
            f"unknown surface tags {unknown}: use 1 wall, 2 source, 3 secondary, 4 interface",
            location=f"{location}.tags",
        )
    if not np.any(tags == SOURCE):
        raise InputError(
            "the mesh has no source surface (tag 2): nothing would radiate",
            location=f"{location}.tags",
            code="no_source",
        )
    same_vertex = (t[:, 0] == t[:, 1]) | (t[:, 1] == t[:, 2]) | (t[:, 0] == t[:, 2])
    areas = Mesh(v, t, tags).areas()
    scale = float(np.ptp(v, axis=0).max()) or 1.0
    degenerate = same_vertex | (areas <= 1e-12 * scale**2)
    if degenerate.any():
        raise InputError(
            f"triangle {int(np.argmax(degenerate))} is degenerate (zero area)",
            location=f"{location}.triangles",
            code="degenerate_triangle",
        )
    keys = np.sort(t, axis=1)
    _, first, counts = np.unique(keys, axis=0, return_index=True, return_counts=True)
    if np.any(counts > 1):
        raise InputError(
            f"triangle {int(first[np.argmax(counts > 1)])} appears more than once",
            location=f"{location}.triangles",
            code="duplicate_triangle",
        )
    directed = _edges(t)
    undirected = np.sort(directed, axis=1)
    _, edge_counts = np.unique(undirected, axis=0, return_counts=True)
    if closed and np.any(edge_counts != 2):
        raise InputError(
            f"the mesh is not closed{hint}: {int(np.sum(edge_counts == 1))} edges border one "
            "triangle "
            f"and {int(np.sum(edge_counts > 2))} more than two (declare baffled only for "
            "meshes that end on a baffle)",
            location=f"{location}.triangles",
            code="mesh_not_closed",
        )
    _, directed_counts = np.unique(directed, axis=0, return_counts=True)
    if np.any(directed_counts > 1):
        raise InputError(
            "triangles are not consistently oriented (an edge is traversed twice the same way)",
            location=f"{location}.triangles",
            code="inconsistent_orientation",
        )
    if closed and signed_volume(v, t) < 0:
        t = t[:, ::-1].copy()
    return Mesh(v, np.ascontiguousarray(t, dtype=np.int32), tags.astype(np.int32))


def check_baffled(mesh: Mesh, *, location: str, max_triangles: int, hint: str = "") -> Mesh:
    """Check a mesh that ends on the baffle z = 0; its triangles oriented into the air.

    Refused: a vertex behind the plane, an open edge off it, a triangle in it (the
    baffle is implied), an edge in it shared by two triangles (the mirrored body would
    not be a surface there).
    """
    opened = check(mesh, location=location, max_triangles=max_triangles, closed=False)
    v, t = opened.vertices.copy(), opened.triangles
    tol = BAFFLE_TOLERANCE * (float(np.ptp(v, axis=0).max()) or 1.0)
    z = v[:, 2]
    if z.min() < -tol:
        i = int(np.argmin(z))
        raise InputError(
            f"vertex {i} is behind the baffle (z = {z[i]:.4g} m): a baffled mesh lies in "
            "front of the plane z = 0 (the side of +z, where the observation points are) and "
            "ends on it. A horn mounted flush in the baffle, its body behind the plane, is "
            "not a one-domain problem: mesh it closed instead",
            location=f"{location}.vertices",
            code="mesh_behind_baffle",
        )
    on_plane = np.abs(z) <= tol
    in_plane = on_plane[t].all(axis=1)
    if in_plane.any():
        raise InputError(
            f"triangle {int(np.argmax(in_plane))} lies in the baffle plane z = 0: the baffle "
            "is implied, leave its triangles out",
            location=f"{location}.triangles",
            code="triangle_in_baffle",
        )
    undirected = np.sort(_edges(t), axis=1)
    edges, counts = np.unique(undirected, axis=0, return_counts=True)
    open_edges = edges[counts == 1]
    off = ~on_plane[open_edges].all(axis=1)
    if np.any(counts > 2) or off.any():
        detail = (
            f"{int(off.sum())} open edges are off the baffle plane z = 0 (one joins vertices "
            f"{int(open_edges[off][0][0])} and {int(open_edges[off][0][1])})"
            if off.any()
            else f"{int(np.sum(counts > 2))} edges border more than two triangles"
        )
        raise InputError(
            f"the baffled mesh is not closed against its baffle{hint}: {detail}; a baffled "
            "mesh may be open only along its rim on the baffle",
            location=f"{location}.triangles",
            code="mesh_not_closed",
        )
    rim = edges[(counts == 2) & on_plane[edges].all(axis=1)]
    if len(rim):
        raise InputError(
            f"the edge joining vertices {int(rim[0][0])} and {int(rim[0][1])} lies in the "
            "baffle plane but borders two triangles: the mesh may meet the baffle only "
            "along its open rim",
            location=f"{location}.triangles",
            code="mesh_not_closed",
        )
    v[on_plane, 2] = 0.0  # exactly in the plane, so the mirror image shares these vertices
    half = Mesh(v, t, opened.tags)
    closed = check(mirrored(half), location=location, max_triangles=2 * max_triangles, closed=True)
    # the closed body's outward orientation, read back on the user's half
    return Mesh(v, np.ascontiguousarray(closed.triangles[: len(t)]), half.tags)


def mirrored(mesh: Mesh) -> Mesh:
    """The mesh and its image in the plane z = 0 (vertices on the plane shared)."""
    v, t = mesh.vertices, mesh.triangles
    off = np.flatnonzero(v[:, 2] != 0.0)
    image = v[off] * np.array([1.0, 1.0, -1.0])
    index = np.arange(len(v))
    index[off] = len(v) + np.arange(len(off))
    # a reflection reverses handedness: reverse each image triangle to keep it outward
    t_image = index[t][:, ::-1]
    return Mesh(
        np.vstack([v, image]),
        np.vstack([t, t_image]).astype(np.int32),
        np.concatenate([mesh.tags, mesh.tags]),
    )


def signed_volume(v: np.ndarray, t: np.ndarray) -> float:
    a, b, c = v[t[:, 0]], v[t[:, 1]], v[t[:, 2]]
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)


def orient_consistently(t: np.ndarray) -> np.ndarray:
    """Flip triangles so neighbours traverse shared edges in opposite directions (BFS)."""
    t = t.copy()
    m = len(t)
    edge_tris: dict[tuple[int, int], list[int]] = {}
    for i, tri in enumerate(t):
        for a, b in ((tri[0], tri[1]), (tri[1], tri[2]), (tri[2], tri[0])):
            edge_tris.setdefault((min(a, b), max(a, b)), []).append(i)
    seen = np.zeros(m, dtype=bool)
    for root in range(m):
        if seen[root]:
            continue
        seen[root] = True
        stack = [root]
        while stack:
            i = stack.pop()
            tri = t[i]
            for a, b in ((tri[0], tri[1]), (tri[1], tri[2]), (tri[2], tri[0])):
                for j in edge_tris[(min(a, b), max(a, b))]:
                    if j == i or seen[j]:
                        continue
                    other = t[j]
                    same_way = any((other[k] == a and other[(k + 1) % 3] == b) for k in range(3))
                    if same_way:
                        t[j] = other[::-1]
                    seen[j] = True
                    stack.append(j)
    return t


def to_msh(mesh: Mesh) -> bytes:
    """Gmsh 2.2 ASCII with the surface tags as physical groups (coordinates in metres)."""
    import meshio

    m = meshio.Mesh(
        mesh.vertices,
        [("triangle", mesh.triangles)],
        cell_data={"gmsh:physical": [mesh.tags], "gmsh:geometrical": [mesh.tags]},
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mesh.msh"
        meshio.write(path, m, file_format="gmsh22", binary=False)
        return path.read_bytes()


def from_msh(path: Path, *, units: str, location: str) -> Mesh:
    """Read a Gmsh .msh (2.2 or 4.1): its triangles and their physical tags."""
    import meshio

    try:
        m = meshio.read(path, file_format="gmsh")
    except Exception as exc:  # meshio raises many types for a bad file
        raise InputError(f"cannot read the .msh file: {exc}", location=location) from None
    tris, tags = [], []
    physical = m.cell_data.get("gmsh:physical")
    for i, block in enumerate(m.cells):
        if block.type != "triangle":
            continue
        if physical is None:
            raise InputError("the .msh file has no physical surface tags", location=location)
        tris.append(block.data)
        tags.append(np.asarray(physical[i]))
    if not tris:
        raise InputError("the .msh file has no triangles", location=location)
    scale = 1e-3 if units == "mm" else 1.0
    return Mesh(
        np.asarray(m.points, dtype=float)[:, :3] * scale,
        np.concatenate(tris).astype(np.int64),
        np.concatenate(tags).astype(np.int64),
    )


def from_arrays(vertices, triangles, tags, *, units: str, location: str) -> Mesh:
    try:
        v = np.asarray(vertices, dtype=float)
        t = np.asarray(triangles, dtype=np.int64)
        g = np.asarray(tags, dtype=np.int64)
    except (TypeError, ValueError):
        raise InputError(
            "vertices, triangles and tags must be numbers", location=location
        ) from None
    if v.ndim == 1 and v.size % 3 == 0:
        v = v.reshape(-1, 3)
    if t.ndim == 1 and t.size % 3 == 0:
        t = t.reshape(-1, 3)
    return Mesh(v * (1e-3 if units == "mm" else 1.0), t, g)


def icosphere(radius: float, subdivisions: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (n, 3) and outward triangles (m, 3) of a subdivided icosahedron."""
    t = (1 + 5**0.5) / 2
    v = [
        [-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0],
        [0, -1, t], [0, 1, t], [0, -1, -t], [0, 1, -t],
        [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1],
    ]  # fmt: skip
    f = [
        [0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11],
        [1, 5, 9], [5, 11, 4], [11, 10, 2], [10, 7, 6], [7, 1, 8],
        [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9],
        [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1],
    ]  # fmt: skip
    verts = [np.array(p, dtype=float) / np.linalg.norm(p) for p in v]
    faces = [tuple(x) for x in f]
    for _ in range(subdivisions):
        cache: dict[tuple[int, int], int] = {}

        def mid(a: int, b: int, cache: dict[tuple[int, int], int] = cache) -> int:
            key = (min(a, b), max(a, b))
            if key not in cache:
                m = verts[a] + verts[b]
                verts.append(m / np.linalg.norm(m))
                cache[key] = len(verts) - 1
            return cache[key]

        new = []
        for a, b, c in faces:
            ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
            new += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
        faces = new
    return np.array(verts) * radius, np.array(faces, dtype=np.int64)
