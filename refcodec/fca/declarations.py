"""The element lists of the container's construct declarations, for the spec agreement test
and for ``fcdump``: each structure flattened to (element name, descriptor) in syntax order."""

from __future__ import annotations

from construct import Array, Bytes, Computed, Construct, FormatField, IfThenElse, Pass, Renamed, Struct

from . import syntax
from .budget import Counted
from .constructs import Checked, F16Array, F32Array, Planes

#: Structure name in SPEC.md / spec/syntax.toml -> construct declaration.
STRUCTURES: dict[str, Struct] = {
    "file_header": syntax.FILE_HEADER,
    "section_header": syntax.SECTION_HEADER,
    "meta_section": syntax.META,
    "text_section": syntax.TEXT,
    "defm_section": syntax.DEFM,
    "defs_section": syntax.DEFS,
    "skeleton": syntax.SKELETON,
    "defr_section": syntax.DEFR,
    "bind_section": syntax.BIND,
    "attr_section": syntax.ATTR,
    "latn_section": syntax.LATN,
    "omlp_section": syntax.OMLP,
    "quantized_block": syntax.quantized_block(lambda ctx: 1, lambda ctx: 1),
    "mlp": syntax.mlp(lambda ctx: 1, lambda ctx: 1),
    "mlp_layer": syntax.MLP_LAYER,
}

#: Elements that are an instance of a parameterised structure (built per use, so not the same object).
INSTANCES = {
    "vertices": "quantized_block",
    "base_vertices": "quantized_block",
    "vertex_residuals": "quantized_block",
    "morph_deltas": "quantized_block",
    "barycentric": "quantized_block",
    "attribute": "quantized_block",
    "latent_decoder": "mlp",
    "offset_network": "mlp",
}

_FORMATS = {"<B": "u8", "<H": "u16", "<h": "s16", "<L": "u32", "<f": "f32le"}


def descriptor(con: Construct) -> str:
    """The SPEC 11.1.1 descriptor of a leaf construct."""
    while isinstance(con, Checked | Counted | Renamed | Array):
        con = con.subcon
    if isinstance(con, FormatField):
        return _FORMATS[con.fmtstr]
    if isinstance(con, Bytes):
        return f"b({con.length})" if isinstance(con.length, int) else "b(n)"
    if isinstance(con, Planes):
        return "planes(n)"
    if isinstance(con, F32Array):
        return "f32planes(n)"
    if isinstance(con, F16Array):
        return "f16planes(n)"
    raise TypeError(f"no descriptor for {con!r}")


def flatten(struct: Struct) -> list[tuple[str, str]]:
    """(name, descriptor) of every leaf element in order; sub-structures that are themselves
    listed in :data:`STRUCTURES` appear as one element with descriptor ``<name>( )``."""
    listed = {id(s): name for name, s in STRUCTURES.items()}
    out: list[tuple[str, str]] = []
    for sub in struct.subcons:
        name, inner = sub.name, sub.subcon if isinstance(sub, Renamed) else sub
        if isinstance(inner.subcon if isinstance(inner, Checked) else inner, Computed):
            continue  # derived values (checked or not) are not in the bitstream
        while isinstance(inner, Array | Renamed) or (isinstance(inner, IfThenElse) and inner.elsesubcon is Pass):
            inner = inner.thensubcon if isinstance(inner, IfThenElse) else inner.subcon
        if isinstance(inner, IfThenElse):  # one element with two encodings: the "then" one first
            out.extend([(name, descriptor(inner.thensubcon)), (name, descriptor(inner.elsesubcon))])
            continue
        if isinstance(inner, Struct):
            if id(inner) in listed:
                out.append((name, f"{listed[id(inner)]}( )"))
            elif name in INSTANCES:
                out.append((name, f"{INSTANCES[name]}( )"))
            else:
                out.extend(flatten(inner))
        else:
            out.append((name, descriptor(inner)))
    return out
