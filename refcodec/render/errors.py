"""The renderer's input error (SPEC 13.3, R-83).

Rendering is not part of bitstream parsing, so its bad inputs (a camera, a parameter vector
handed in by a caller) are not registry errors of SPEC 4.1; they raise :class:`RenderError`, a
``ValueError`` that names the offending field.
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
