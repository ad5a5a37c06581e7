"""The renderer's input error (SPEC 13.3, R-83).

Rendering is not part of bitstream parsing, so its bad inputs (a camera, a parameter vector
handed in by a caller) are not registry errors of SPEC 4.1; they raise :class:`RenderError`, a
``ValueError`` that names the offending field. A frame the deformation cannot use (SPEC 13.1,
R-96) raises it too, with the group or quantity as the field; :attr:`RenderError.from_caller`
tells the two kinds apart.
"""

from __future__ import annotations


class RenderError(ValueError):
    """Bad renderer input: a camera or parameter field that is out of range.

    Attributes:
        field: the offending field, e.g. ``"camera.fx"`` or ``"params[3, 7]"``.
        message: what is wrong with it.
    """

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")

    @property
    def from_caller(self) -> bool:
        """True when the field is the caller's choice (camera, orbit, backend, correction, parameter
        array shape), False when it comes from the avatar or the frame's values (SPEC 13.1 R-96,
        R-97): a CLI reports the first as a bad command line, the second as rejected input."""
        return self.field.split(".")[0].split("[")[0] in CALLER_FIELDS


CALLER_FIELDS = frozenset({"camera", "orbit", "backend", "correction", "params", "threads"})
"""Leading names of the fields a caller chooses (SPEC 13.3, R-83)."""
