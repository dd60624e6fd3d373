"""Sphere meshes for the BEM correctness tests (outward triangles, metres); the icosphere is the engine's own."""

from __future__ import annotations

import numpy as np

from montesim.engines.horn.mesh import icosphere

__all__ = ["hemisphere", "icosphere"]


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
