"""A waveguide wall grid → a closed, tagged triangle mesh with gmsh (OCC kernel).

The body is the wall (tag 1) lofted through the profile sections, the throat disc
(tag 2, the source), and behind the mouth a sleeve back to a flat rear cap (tag 3):
a free-standing waveguide with a solid body behind it. No interface (tag 4) is made:
in ATH's ABEC meshes it is the open surface across the mouth between the air inside the
horn and the air outside, which matters to a solver of two coupled subdomains; this
engine solves the one exterior domain, where that surface would be air on both sides
(and meshed as a boundary, a rigid lid on the mouth). Element sizes grow from
``throat_size`` at the throat to ``mouth_size`` at the mouth (``rear_size`` behind).
gmsh is one global state per process, so calls are serialised with a lock.
"""

from __future__ import annotations

import threading

import numpy as np

from montesim.engines.horn.mesh import SECONDARY, SOURCE, WALL, Mesh, orient_consistently
from montesim.engines.horn.spec import MeshSpec
from montesim.engines.horn.waveguide import Wall, surface_area_mm2
from montesim.errors import EngineError, InputError

_lock = threading.Lock()


def estimate_triangles(wall: Wall, spec: MeshSpec) -> int:
    """A cheap upper-side estimate from the wall area and the mean element size."""
    size = min(spec.throat_size, spec.mouth_size)
    mean = 0.5 * (spec.throat_size + spec.mouth_size)
    area = surface_area_mm2(wall)
    # wall at the mean size, plus throat disc and the enclosure at their sizes
    r_mouth = float(np.linalg.norm(wall.mouth[:, :2], axis=1).max())
    depth = float(-wall.throat[0, 2]) + spec.enclosure_depth
    rear = spec.rear_size or spec.mouth_size
    enclosure = 2 * np.pi * r_mouth * depth + np.pi * r_mouth**2
    per = np.sqrt(3) / 4
    throat = np.pi * float(np.linalg.norm(wall.throat[:, :2], axis=1).max()) ** 2
    return int(
        1.15 * (area / (per * mean**2) + enclosure / (per * rear**2) + throat / (per * size**2))
    )


def mesh_waveguide(wall: Wall, spec: MeshSpec) -> Mesh:
    """Mesh the closed body; InputError if it comes out above ``spec.max_triangles``."""

    with _lock:
        mesh = _mesh_locked(wall, spec)
    if mesh.triangle_count > spec.max_triangles:
        raise InputError(
            f"the mesh has {mesh.triangle_count:,} triangles, above the limit of "
            f"{spec.max_triangles:,}: raise throat_size/mouth_size or max_triangles",
            location="spec.mesh.max_triangles",
            code="mesh_too_large",
        )
    return mesh


def _mesh_locked(wall: Wall, spec: MeshSpec) -> Mesh:
    import gmsh

    gmsh.initialize(interruptible=False)  # no signal handler: we may be off the main thread
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.option.setNumber("General.NumThreads", 1)  # deterministic output
        gmsh.model.add("waveguide")
        occ = gmsh.model.occ
        pts = wall.points
        sections, curves = [], []
        for i in range(pts.shape[0]):
            tags = [occ.addPoint(*map(float, p)) for p in pts[i]]
            curves.append(occ.addSpline([*tags, tags[0]]))
            sections.append(occ.addWire([curves[-1]]))
        mouth = pts[-1]
        z_back = float(pts[0, :, 2].min()) - spec.enclosure_depth
        back_tags = [occ.addPoint(float(x), float(y), z_back) for x, y, _ in mouth]
        back_curve = occ.addSpline([*back_tags, back_tags[0]])
        back_wire = occ.addWire([back_curve])
        wall_dimtags = occ.addThruSections(sections, makeSolid=False, makeRuled=False)
        sleeve_dimtags = occ.addThruSections(
            [sections[-1], back_wire], makeSolid=False, makeRuled=True
        )
        throat = occ.addPlaneSurface([occ.addCurveLoop([curves[0]])])
        back = occ.addPlaneSurface([occ.addCurveLoop([back_curve])])
        occ.synchronize()
        surfaces = [
            *[(d, t, WALL) for d, t in wall_dimtags if d == 2],
            (2, throat, SOURCE),
            *[(d, t, SECONDARY) for d, t in sleeve_dimtags if d == 2],
            (2, back, SECONDARY),
        ]
        out, out_map = occ.fragment([(2, t) for _, t, _ in surfaces], [])
        occ.synchronize()
        tag_of: dict[int, int] = {}
        for (_, _, tag), children in zip(surfaces, out_map, strict=True):
            for _, child in children:
                tag_of[child] = tag
        rear = spec.rear_size or spec.mouth_size
        r_throat = float(np.linalg.norm(pts[0, :, :2], axis=1).mean())
        r_mouth = float(np.linalg.norm(pts[-1, :, :2], axis=1).max())
        z_throat = float(pts[0, :, 2].max())

        # throat_size at the throat radius growing to mouth_size at the mouth radius;
        # rear_size behind the throat plane (a field: no Python callback per node)
        r = "Sqrt(x*x + y*y)"
        grow = f"Min(1, Max(0, ({r} - {r_throat!r}) / {max(r_mouth - r_throat, 1e-9)!r}))"
        behind = f"Min(1, Max(0, ({z_throat - 1e-6!r} - z) * 1e9))"
        horn = f"({spec.throat_size!r} + {spec.mouth_size - spec.throat_size!r} * {grow})"
        field = gmsh.model.mesh.field
        fid = field.add("MathEval")
        field.setString(fid, "F", f"{horn} * (1 - {behind}) + {rear!r} * {behind}")
        field.setAsBackgroundMesh(fid)
        gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
        gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
        gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
        gmsh.option.setNumber("Mesh.Algorithm", 6)
        gmsh.model.mesh.generate(2)
        gmsh.model.mesh.removeDuplicateNodes()
        node_tags, coords, _ = gmsh.model.mesh.getNodes()
        index = np.full(int(node_tags.max()) + 1, -1, dtype=np.int64)
        index[node_tags.astype(np.int64)] = np.arange(len(node_tags))
        vertices = coords.reshape(-1, 3) * 1e-3  # mm -> m
        tris, tags = [], []
        for _, surf in gmsh.model.getEntities(2):
            types, _, elem_nodes = gmsh.model.mesh.getElements(2, surf)
            for etype, nodes in zip(types, elem_nodes, strict=True):
                if etype != 2:  # 3-node triangles only
                    continue
                t = index[nodes.astype(np.int64)].reshape(-1, 3)
                tris.append(t)
                tags.append(np.full(len(t), tag_of.get(surf, SECONDARY), dtype=np.int32))
    except InputError:
        raise
    except Exception as exc:
        raise EngineError(
            f"gmsh could not mesh this waveguide: {exc}", code="meshing_failed"
        ) from exc
    finally:
        gmsh.finalize()
    if not tris:
        raise EngineError("gmsh produced no triangles", code="meshing_failed")
    triangles = orient_consistently(np.concatenate(tris))
    used = np.unique(triangles)
    remap = np.full(len(vertices), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return Mesh(vertices[used], remap[triangles].astype(np.int32), np.concatenate(tags))
