"""Icosphere meshes for the BEM correctness tests (outward triangles, metres)."""

from __future__ import annotations

import numpy as np


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


def hemisphere(radius: float, rings: int, segments: int) -> tuple[np.ndarray, np.ndarray]:
    """The upper half (z >= 0) of a UV sphere, open along its rim on z = 0 (outward)."""
    theta = np.linspace(0, np.pi / 2, rings + 1)[1:]
    phi = 2 * np.pi * np.arange(segments) / segments
    ring = np.stack(
        [
            np.outer(np.sin(theta), np.cos(phi)),
            np.outer(np.sin(theta), np.sin(phi)),
            np.outer(np.cos(theta), np.ones(segments)),
        ],
        axis=-1,
    ).reshape(-1, 3)
    ring[-segments:, 2] = 0.0  # the rim exactly on the baffle
    v = np.vstack([[0.0, 0.0, 1.0], ring]) * radius

    def at(i: int, j: int) -> int:
        return 1 + i * segments + j % segments

    f = [[0, at(0, j), at(0, j + 1)] for j in range(segments)]
    for i in range(rings - 1):
        for j in range(segments):
            a, b, c, d = at(i, j), at(i, j + 1), at(i + 1, j), at(i + 1, j + 1)
            f += [[a, c, d], [a, d, b]]
    return v, np.array(f, dtype=np.int64)
