"""Is a mesh fine enough at a frequency? Judged surface by surface against the wavelength.

What radiates is the source (tag 2) and the waveguide wall (tag 1): their longest edge
decides. Below 2 elements per wavelength there the frequency fails (a BEM result is
meaningless); below 6 it is kept with a warning. The rear body (tag 3) is judged on its
own and only warns: at high frequencies little sound reaches it, and a coarse rear
(ATH's Mesh.RearResolution) costs accuracy behind the horn (polar angles past 90°),
not in front. The thresholds are per surface so that a 38 mm rear edge no longer fails
a frequency whose wall mesh converges.
"""

from __future__ import annotations

from dataclasses import dataclass

from montesim.engines.horn.mesh import SECONDARY, SOURCE, WALL, Mesh

FAIL_BELOW = 2.0  # elements per wavelength on the radiating surfaces
WARN_BELOW = 6.0
SURFACES = {WALL: "wall", SOURCE: "source", SECONDARY: "rear"}
RADIATING = (WALL, SOURCE)


@dataclass(frozen=True)
class Accuracy:
    frequency: float
    per_wavelength: dict[str, float]  # surface name -> elements per wavelength
    reason: str | None  # the frequency fails: why
    warnings: tuple[str, ...]

    def view(self) -> dict:
        return {
            "frequency": self.frequency,
            "elements_per_wavelength": {k: round(v, 2) for k, v in self.per_wavelength.items()},
            "status": "failed" if self.reason else "warning" if self.warnings else "ok",
        }


def judge(mesh: Mesh, frequency: float, sound_speed: float) -> Accuracy:
    """Elements per wavelength on each surface, and the verdict at ``frequency``."""
    wavelength = sound_speed / frequency
    edges = mesh.max_edge_by_tag()
    per = {SURFACES.get(t, f"tag {t}"): wavelength / e for t, e in edges.items() if e > 0}
    radiating = {SURFACES[t]: per[SURFACES[t]] for t in RADIATING if SURFACES[t] in per}
    if not radiating:  # a user mesh of other tags only: judge all of it
        radiating = dict(per)
    worst = min(radiating, key=radiating.__getitem__)
    f = f"{frequency:,.0f} Hz"
    if radiating[worst] < FAIL_BELOW:
        return Accuracy(
            frequency,
            per,
            f"mesh too coarse at {f}: {radiating[worst]:.1f} elements per wavelength on the "
            f"{worst} (longest edge {wavelength / radiating[worst] * 1e3:.1f} mm); refine it "
            "(Mesh.ThroatResolution / Mesh.MouthResolution, mesh.throat_size / mouth_size)",
            (),
        )
    warnings = []
    if radiating[worst] < WARN_BELOW:
        warnings.append(
            f"mesh accuracy at {f}: only {radiating[worst]:.1f} elements per wavelength on the "
            f"{worst} (6 or more recommended); refine it for this frequency"
        )
    rear = per.get("rear")
    if rear is not None and rear < WARN_BELOW:
        warnings.append(
            f"mesh accuracy at {f}: {rear:.1f} elements per wavelength on the rear body: the "
            "field behind the horn (polar angles past 90 degrees) is less reliable; refine "
            "Mesh.RearResolution (mesh.rear_size)"
        )
    return Accuracy(frequency, per, None, tuple(warnings))
