"""In-memory avatar model: Gaussians, deformation model, binding, render defaults.

Conventions (stated once, used everywhere in ``refcodec.avatar``):

- right-handed coordinates, metres;
- quaternions are stored **w, x, y, z** (scalar first).  The 3DGS PLY ``rot_0..3`` is
  already w,x,y,z; glTF stores x,y,z,w and is converted on import;
- 4x4 matrices act on column vectors (``p' = M @ [p, 1]``);
- all arrays are ``float32`` except index arrays (``int32``/``int64``).

The meaning of :attr:`Gaussians.positions` and :attr:`Gaussians.rotations` depends on the
:class:`Binding`:

- ``"none"``   (static avatar): world positions and rotations;
- ``"vertex"``: a static offset added to the bound (deformed) vertex, and a canonical rotation;
- ``"triangle"``: an offset and a rotation in the bound triangle's local frame (see
  :mod:`refcodec.avatar.deform`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

SH_REST_COUNT = {0: 0, 1: 3, 2: 8, 3: 15}
"""Number of higher-order SH coefficients per colour channel, by SH degree."""

BINDING_MODES = ("none", "vertex", "triangle")


def _err(field_name: str, msg: str) -> ValueError:
    return ValueError(f"{field_name}: {msg}")


def _check_array(name: str, a: Any, shape: tuple, kind: str = "f") -> None:
    """Check that ``a`` is an ndarray of the given shape (``None`` = any size) and dtype kind."""
    if not isinstance(a, np.ndarray):
        raise _err(name, f"expected numpy array, got {type(a).__name__}")
    if a.ndim != len(shape):
        raise _err(name, f"expected {len(shape)} dimensions, got shape {a.shape}")
    for got, want in zip(a.shape, shape, strict=True):
        if want is not None and got != want:
            raise _err(name, f"expected shape {shape}, got {a.shape}")
    if kind == "f" and a.dtype != np.float32:
        raise _err(name, f"expected float32, got {a.dtype}")
    if kind == "i" and a.dtype.kind not in "iu":
        raise _err(name, f"expected an integer array, got {a.dtype}")
    if kind == "f" and not np.all(np.isfinite(a)):
        raise _err(name, "contains NaN or infinity")


def _arrays_equal(a: Any, b: Any, atol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        return False
    if atol == 0.0 or a.dtype.kind not in "fc":
        return bool(np.array_equal(a, b))
    return bool(np.allclose(a, b, rtol=0.0, atol=atol))


@dataclass
class Gaussians:
    """A set of N 3D Gaussians (3DGS parameterisation, activations not applied).

    Attributes:
        positions: [N,3] f32. World position, or offset, depending on the binding.
        rotations: [N,4] f32 quaternion **w,x,y,z** (not necessarily normalised; normalise
            before use, as 3DGS does).
        log_scales: [N,3] f32 natural-log scales (``scale = exp(log_scales)``).
        opacity_logits: [N] f32 (``opacity = sigmoid(opacity_logits)``).
        sh_dc: [N,3] f32 degree-0 SH coefficient per colour channel (``rgb = 0.5 + C0 * sh_dc``).
        sh_rest: [N,K,3] f32 higher-order SH, K = 0, 3, 8, 15 for degree 0..3; indexed
            [gaussian, coefficient, channel].
        sh_degree: 0..3.
    """

    positions: np.ndarray
    rotations: np.ndarray
    log_scales: np.ndarray
    opacity_logits: np.ndarray
    sh_dc: np.ndarray
    sh_rest: np.ndarray
    sh_degree: int = 0

    @property
    def count(self) -> int:
        """Number of Gaussians N."""
        return int(self.positions.shape[0])

    @classmethod
    def empty(cls, n: int, sh_degree: int = 0) -> Gaussians:
        """N Gaussians at the origin: identity rotation, unit scale, opacity 0.5, grey."""
        rot = np.zeros((n, 4), np.float32)
        rot[:, 0] = 1.0
        return cls(
            positions=np.zeros((n, 3), np.float32),
            rotations=rot,
            log_scales=np.zeros((n, 3), np.float32),
            opacity_logits=np.zeros(n, np.float32),
            sh_dc=np.zeros((n, 3), np.float32),
            sh_rest=np.zeros((n, SH_REST_COUNT[sh_degree], 3), np.float32),
            sh_degree=sh_degree,
        )

    def validate(self) -> None:
        """Raise ValueError naming the first inconsistent field."""
        if not isinstance(self.sh_degree, int) or self.sh_degree not in SH_REST_COUNT:
            raise _err("gaussians.sh_degree", f"must be 0..3, got {self.sh_degree!r}")
        _check_array("gaussians.positions", self.positions, (None, 3))
        n = self.positions.shape[0]
        _check_array("gaussians.rotations", self.rotations, (n, 4))
        _check_array("gaussians.log_scales", self.log_scales, (n, 3))
        _check_array("gaussians.opacity_logits", self.opacity_logits, (n,))
        _check_array("gaussians.sh_dc", self.sh_dc, (n, 3))
        _check_array("gaussians.sh_rest", self.sh_rest, (n, SH_REST_COUNT[self.sh_degree], 3))
        if n and np.any(np.einsum("ij,ij->i", self.rotations, self.rotations) == 0.0):
            raise _err("gaussians.rotations", "contains a zero quaternion")

    def subset(self, index: np.ndarray) -> Gaussians:
        """The Gaussians selected by an index or boolean mask (copies)."""
        return Gaussians(
            self.positions[index].copy(),
            self.rotations[index].copy(),
            self.log_scales[index].copy(),
            self.opacity_logits[index].copy(),
            self.sh_dc[index].copy(),
            self.sh_rest[index].copy(),
            self.sh_degree,
        )

    def nbytes(self) -> int:
        """Bytes of all attribute arrays (binary32)."""
        return sum(a.nbytes for a in (self.positions, self.rotations, self.log_scales, self.opacity_logits, self.sh_dc, self.sh_rest))

    def equals(self, other: Gaussians, atol: float = 0.0) -> bool:
        """Exact (``atol=0``) or tolerant equality of all fields."""
        return self.sh_degree == other.sh_degree and all(
            _arrays_equal(getattr(self, f), getattr(other, f), atol)
            for f in ("positions", "rotations", "log_scales", "opacity_logits", "sh_dc", "sh_rest")
        )


@dataclass
class MorphTargets:
    """Linear morph targets, stored **sparse** (the container stores them sparse too).

    Target ``t`` moves vertex ``indices[t][k]`` by ``deltas[t][k]`` (metres) per unit weight;
    every other vertex is unmoved.  ``indices[t]`` is strictly increasing int32.
    ``v = base + sum_t w_t * delta_t``.
    """

    names: list[str]
    indices: list[np.ndarray]
    deltas: list[np.ndarray]

    @property
    def count(self) -> int:
        return len(self.names)

    @classmethod
    def from_dense(cls, names: list[str], dense: np.ndarray) -> MorphTargets:
        """Build from dense [T,V,3] deltas, keeping the vertices whose delta is not exactly zero."""
        idx, dl = [], []
        for t in range(dense.shape[0]):
            nz = np.flatnonzero(np.any(dense[t] != 0.0, axis=1)).astype(np.int32)
            idx.append(nz)
            dl.append(np.ascontiguousarray(dense[t][nz], dtype=np.float32))
        return cls(list(names), idx, dl)

    def dense(self, vertex_count: int) -> np.ndarray:
        """Dense [T,V,3] float32 deltas."""
        out = np.zeros((self.count, vertex_count, 3), np.float32)
        for t in range(self.count):
            out[t, self.indices[t]] = self.deltas[t]
        return out

    def nnz(self) -> list[int]:
        """Number of moved vertices per target."""
        return [int(i.shape[0]) for i in self.indices]


@dataclass
class Skeleton:
    """A small joint hierarchy for linear-blend skinning.

    Attributes:
        joint_names: J names.
        parents: [J] int, parent joint index or -1 for a root; a parent precedes its children.
        rest_local: [J,4,4] f32 rest transform of each joint relative to its parent (for a root:
            relative to the model space; ancestors dropped on import are folded in here).
        inverse_bind: [J,4,4] f32 inverse bind matrices (model space -> joint space at bind time).
        vertex_joints: [V,4] int joint indices per vertex (unused slots: index 0, weight 0).
        vertex_weights: [V,4] f32 weights, each row sums to 1.
    """

    joint_names: list[str]
    parents: np.ndarray
    rest_local: np.ndarray
    inverse_bind: np.ndarray
    vertex_joints: np.ndarray
    vertex_weights: np.ndarray

    @property
    def count(self) -> int:
        return len(self.joint_names)

    def rest_world(self) -> np.ndarray:
        """[J,4,4] world (model-space) rest transforms.

        The products are summed term by term in a fixed order (no BLAS): the head pivot an encoder
        derives from them is stored in the container, whose bytes must not depend on the CPU."""
        out = np.zeros((self.count, 4, 4), np.float32)
        for j in range(self.count):
            p = int(self.parents[j])
            if p < 0:
                out[j] = self.rest_local[j]
                continue
            a, b = out[p], np.asarray(self.rest_local[j], np.float32)
            acc = a[:, :1] * b[0]
            for k in range(1, 4):
                acc = acc + a[:, k : k + 1] * b[k]
            out[j] = acc
        return out

    def index(self, name: str) -> int:
        return self.joint_names.index(name)


@dataclass
class CoefficientMap:
    """A linear map from one stream group's coefficients to morph-target weights.

    ``w = matrix @ stream[source] + bias`` with ``matrix`` [T, dims(source)] f32 and
    ``bias`` [T] f32 (or None = 0).  ``source`` is a group semantic name (spec/groups.toml).
    """

    source: str
    matrix: np.ndarray
    bias: np.ndarray | None = None


@dataclass
class DeformationModel:
    """Embedded deformation model: base mesh, morph targets, optional skeleton and maps.

    Attributes:
        vertices: [V,3] f32 base (neutral) mesh, model space.
        triangles: [F,3] int32 vertex indices, counter-clockwise seen from outside.
        morphs: sparse morph targets.
        skeleton: optional LBS skeleton.
        coeff_map: optional stream-coefficient -> morph-weight map; when None, an ARKIT52 group
            drives targets whose names are ARKit names (by name; unmatched ones are ignored).
        joint_drivers: stream group semantic name -> joint name whose local rotation it sets
            (axis-angle, e.g. {"JAW": "jaw", "NECK": "neck"}).
        head_pivot: [3] f32 centre of the rigid head rotation (model space).
    """

    vertices: np.ndarray
    triangles: np.ndarray
    morphs: MorphTargets
    skeleton: Skeleton | None = None
    coeff_map: CoefficientMap | None = None
    joint_drivers: dict[str, str] = field(default_factory=dict)
    head_pivot: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))

    @property
    def vertex_count(self) -> int:
        return int(self.vertices.shape[0])

    def validate(self) -> None:
        """Raise ValueError naming the first inconsistent field."""
        _check_array("deformation.vertices", self.vertices, (None, 3))
        v = self.vertex_count
        _check_array("deformation.triangles", self.triangles, (None, 3), kind="i")
        if self.triangles.size and (self.triangles.min() < 0 or self.triangles.max() >= v):
            raise _err("deformation.triangles", f"index out of range 0..{v - 1}")
        m = self.morphs
        if not (len(m.names) == len(m.indices) == len(m.deltas)):
            raise _err("deformation.morphs", "names, indices and deltas differ in length")
        if len(set(m.names)) != len(m.names):
            raise _err("deformation.morphs.names", "duplicate target name")
        for t, (idx, dl) in enumerate(zip(m.indices, m.deltas, strict=True)):
            _check_array(f"deformation.morphs.indices[{t}]", idx, (None,), kind="i")
            _check_array(f"deformation.morphs.deltas[{t}]", dl, (idx.shape[0], 3))
            if idx.size and (idx[0] < 0 or idx[-1] >= v or np.any(np.diff(idx) <= 0)):
                raise _err(f"deformation.morphs.indices[{t}]", f"must be strictly increasing in 0..{v - 1}")
        s = self.skeleton
        if s is not None:
            j = s.count
            if j == 0:
                raise _err("deformation.skeleton", "has no joints")
            _check_array("deformation.skeleton.parents", s.parents, (j,), kind="i")
            if np.any(s.parents >= np.arange(j)) or np.any(s.parents < -1):
                raise _err("deformation.skeleton.parents", "a parent must precede its child (or be -1)")
            _check_array("deformation.skeleton.rest_local", s.rest_local, (j, 4, 4))
            _check_array("deformation.skeleton.inverse_bind", s.inverse_bind, (j, 4, 4))
            _check_array("deformation.skeleton.vertex_joints", s.vertex_joints, (v, 4), kind="i")
            _check_array("deformation.skeleton.vertex_weights", s.vertex_weights, (v, 4))
            if s.vertex_joints.size and (s.vertex_joints.min() < 0 or s.vertex_joints.max() >= j):
                raise _err("deformation.skeleton.vertex_joints", f"joint index out of range 0..{j - 1}")
            if np.any(s.vertex_weights < 0) or not np.allclose(s.vertex_weights.sum(1), 1.0, atol=1e-4):
                raise _err("deformation.skeleton.vertex_weights", "weights must be >= 0 and sum to 1 per vertex")
        c = self.coeff_map
        if c is not None:
            _check_array("deformation.coeff_map.matrix", c.matrix, (m.count, None))
            if c.bias is not None:
                _check_array("deformation.coeff_map.bias", c.bias, (m.count,))
        for group, joint in self.joint_drivers.items():
            if s is None or joint not in s.joint_names:
                raise _err("deformation.joint_drivers", f"group {group} drives unknown joint {joint!r}")
        _check_array("deformation.head_pivot", self.head_pivot, (3,))

    def equals(self, other: DeformationModel, atol: float = 0.0) -> bool:
        """Field-by-field equality (exact when ``atol=0``)."""
        a, b = self, other
        if not (_arrays_equal(a.vertices, b.vertices, atol) and _arrays_equal(a.triangles, b.triangles, 0)):
            return False
        if a.morphs.names != b.morphs.names:
            return False
        for i1, d1, i2, d2 in zip(a.morphs.indices, a.morphs.deltas, b.morphs.indices, b.morphs.deltas, strict=True):
            if not (_arrays_equal(i1, i2, 0) and _arrays_equal(d1, d2, atol)):
                return False
        if (a.skeleton is None) != (b.skeleton is None):
            return False
        if a.skeleton is not None:
            s, t = a.skeleton, b.skeleton
            if s.joint_names != t.joint_names:
                return False
            for f in ("parents", "rest_local", "inverse_bind", "vertex_joints", "vertex_weights"):
                if not _arrays_equal(getattr(s, f), getattr(t, f), atol):
                    return False
        if (a.coeff_map is None) != (b.coeff_map is None):
            return False
        if a.coeff_map is not None:
            if a.coeff_map.source != b.coeff_map.source or not _arrays_equal(a.coeff_map.matrix, b.coeff_map.matrix, atol):
                return False
            if not _arrays_equal(a.coeff_map.bias, b.coeff_map.bias, atol):
                return False
        return a.joint_drivers == b.joint_drivers and _arrays_equal(a.head_pivot, b.head_pivot, atol)


@dataclass
class Binding:
    """Where each Gaussian lives.

    Attributes:
        mode: "none" (static), "vertex" (LAM-style) or "triangle" (GaussianAvatars/FlashAvatar).
        index: [N] int vertex index (vertex mode) or triangle index (triangle mode); None for "none".
        barycentric: [N,3] f32 (triangle mode only) weights of the triangle's 3 vertices for the
            frame origin; GaussianAvatars uses the centroid (1/3, 1/3, 1/3).
    """

    mode: str = "none"
    index: np.ndarray | None = None
    barycentric: np.ndarray | None = None

    def validate(self, n: int, deformation: DeformationModel | None) -> None:
        """Raise ValueError naming the first inconsistent field (n = Gaussian count)."""
        if self.mode not in BINDING_MODES:
            raise _err("binding.mode", f"must be one of {BINDING_MODES}, got {self.mode!r}")
        if self.mode == "none":
            if self.index is not None or self.barycentric is not None:
                raise _err("binding.index", "must be None for mode 'none'")
            return
        if deformation is None:
            raise _err("binding.mode", f"mode {self.mode!r} needs a deformation model")
        _check_array("binding.index", self.index, (n,), kind="i")
        limit = deformation.vertex_count if self.mode == "vertex" else int(deformation.triangles.shape[0])
        if n and (self.index.min() < 0 or self.index.max() >= limit):
            raise _err("binding.index", f"index out of range 0..{limit - 1}")
        if self.mode == "vertex":
            if self.barycentric is not None:
                raise _err("binding.barycentric", "must be None for vertex mode")
        else:
            _check_array("binding.barycentric", self.barycentric, (n, 3))

    def equals(self, other: Binding, atol: float = 0.0) -> bool:
        return self.mode == other.mode and _arrays_equal(self.index, other.index, 0) and _arrays_equal(self.barycentric, other.barycentric, atol)


@dataclass
class RenderDefaults:
    """Default render settings: pinhole intrinsics in pixels, camera-to-world pose, background.

    The camera looks down its **-z** axis with +y up (OpenGL/glTF camera convention).
    """

    width: int = 512
    height: int = 512
    fx: float = 1000.0
    fy: float = 1000.0
    cx: float = 256.0
    cy: float = 256.0
    camera_to_world: np.ndarray = field(default_factory=lambda: np.eye(4, dtype=np.float32))
    background: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @classmethod
    def framing(
        cls,
        points: np.ndarray,
        size: int = 512,
        fov_deg: float = 30.0,
        margin: float = 0.1,
        background: tuple[float, float, float] = (1.0, 1.0, 1.0),
    ) -> RenderDefaults:
        """A camera on the +z side looking down -z (no rotation) at the centre of the points'
        bounding box, far enough that the box's front face plus ``margin`` fills the square
        image; the horizontal and vertical field of view is ``fov_deg``."""
        pts = np.asarray(points, np.float64).reshape(-1, 3)
        if pts.shape[0] == 0:
            raise _err("render.framing", "no points to frame")
        lo, hi = pts.min(0), pts.max(0)
        centre = (lo + hi) / 2
        half = max(float(hi[0] - lo[0]), float(hi[1] - lo[1]), 1e-6) / 2 * (1 + margin)
        tan_half = float(np.tan(np.radians(fov_deg) / 2))
        pose = np.eye(4, dtype=np.float32)
        pose[:3, 3] = [centre[0], centre[1], hi[2] + half / tan_half]
        f = size / 2 / tan_half
        return cls(size, size, f, f, size / 2, size / 2, pose, tuple(float(c) for c in background))

    def validate(self) -> None:
        if not (isinstance(self.width, int) and isinstance(self.height, int) and self.width > 0 and self.height > 0):
            raise _err("render.width", f"image size must be positive integers, got {self.width}x{self.height}")
        for name in ("fx", "fy", "cx", "cy"):
            if not np.isfinite(getattr(self, name)):
                raise _err(f"render.{name}", "must be finite")
        if self.fx <= 0 or self.fy <= 0:
            raise _err("render.fx", "focal lengths must be positive")
        _check_array("render.camera_to_world", self.camera_to_world, (4, 4))
        if not np.allclose(self.camera_to_world[3], [0, 0, 0, 1]):
            raise _err("render.camera_to_world", "last row must be 0 0 0 1")
        if len(self.background) != 3 or not all(0.0 <= float(c) <= 1.0 for c in self.background):
            raise _err("render.background", "must be 3 values in [0, 1]")

    def equals(self, other: RenderDefaults, atol: float = 0.0) -> bool:
        scal = ("width", "height", "fx", "fy", "cx", "cy")
        return (
            all(abs(getattr(self, f) - getattr(other, f)) <= atol for f in scal)
            and _arrays_equal(self.camera_to_world, other.camera_to_world, atol)
            and _arrays_equal(np.asarray(self.background, np.float64), np.asarray(other.background, np.float64), atol)
        )


@dataclass
class Avatar:
    """A complete drivable avatar.

    Attributes:
        gaussians: the Gaussians (positions/rotations interpreted per ``binding``).
        deformation: the embedded deformation model, or None for a static avatar.
        binding: where each Gaussian lives.
        layout: the parameter layout the avatar expects, as (group semantic name, dims) pairs in
            stream order, e.g. ``[("ARKIT52", 52), ("HEAD_ROTATION", 3)]`` (spec/groups.toml).
        render: default render settings.
        metadata: free-form string metadata (source, licence, notes).
        offset_mlp: optional ``(OffsetMlpDescriptor, Mlp)`` pair of :mod:`refcodec.avatar.offset_mlp`
            (FlashAvatar-style per-frame corrections, SPEC 12.3).
    """

    gaussians: Gaussians
    deformation: DeformationModel | None = None
    binding: Binding = field(default_factory=Binding)
    layout: list[tuple[str, int]] = field(default_factory=list)
    render: RenderDefaults = field(default_factory=RenderDefaults)
    metadata: dict[str, str] = field(default_factory=dict)
    offset_mlp: Any = None

    def validate(self) -> None:
        """Check every field and cross-reference; raise ValueError naming the first bad field."""
        self.gaussians.validate()
        if self.deformation is not None:
            self.deformation.validate()
        self.binding.validate(self.gaussians.count, self.deformation)
        from refcodec import spec_tables

        known = {g["name"]: int(g["canonical_dims"]) for g in spec_tables.group_semantics().values()}
        seen = set()
        for i, item in enumerate(self.layout):
            if not (isinstance(item, tuple | list) and len(item) == 2):
                raise _err(f"layout[{i}]", "must be a (name, dims) pair")
            name, dims = item
            if name not in known:
                raise _err(f"layout[{i}]", f"unknown group semantic {name!r}")
            if not isinstance(dims, int) or dims <= 0 or (known[name] and dims != known[name]):
                raise _err(f"layout[{i}]", f"{name} must have {known[name] or 'a positive number of'} dims, got {dims!r}")
            if name in seen and name != "UNSPECIFIED":
                raise _err(f"layout[{i}]", f"group {name} appears twice")
            seen.add(name)
        if self.deformation is not None:
            cm = self.deformation.coeff_map
            if cm is not None:
                dims = dict(self.layout).get(cm.source)
                if dims is None:
                    raise _err("deformation.coeff_map.source", f"group {cm.source} is not in the layout")
                if cm.matrix.shape[1] != dims:
                    raise _err("deformation.coeff_map.matrix", f"has {cm.matrix.shape[1]} columns, group {cm.source} has {dims} dims")
        self.render.validate()
        for k, v in self.metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise _err("metadata", "keys and values must be strings")

    def equals(self, other: Avatar, atol: float = 0.0) -> bool:
        """Field-by-field equality (exact when ``atol=0``)."""
        if (self.deformation is None) != (other.deformation is None):
            return False
        if self.deformation is not None and not self.deformation.equals(other.deformation, atol):
            return False
        return (
            self.gaussians.equals(other.gaussians, atol)
            and self.binding.equals(other.binding, atol)
            and [tuple(x) for x in self.layout] == [tuple(x) for x in other.layout]
            and self.render.equals(other.render, atol)
            and self.metadata == other.metadata
        )

    def split_params(self, params: np.ndarray) -> dict[str, np.ndarray]:
        """Split one frame's flat parameter vector (layout order) into {group name: values}."""
        params = np.asarray(params, np.float32).reshape(-1)
        total = sum(d for _, d in self.layout)
        if params.shape[0] != total:
            raise ValueError(f"params: expected {total} values for layout {self.layout}, got {params.shape[0]}")
        out, pos = {}, 0
        for name, dims in self.layout:
            out[name] = params[pos : pos + dims]
            pos += dims
        return out

    def nbytes(self) -> int:
        """Approximate in-memory size in bytes (binary32 floats, int32 indices)."""
        n = self.gaussians.nbytes()
        d = self.deformation
        if d is not None:
            n += d.vertices.nbytes + d.triangles.size * 4
            n += sum(i.size * 4 + x.nbytes for i, x in zip(d.morphs.indices, d.morphs.deltas, strict=True))
            if d.skeleton is not None:
                s = d.skeleton
                n += s.rest_local.nbytes + s.inverse_bind.nbytes + s.vertex_joints.size * 4 + s.vertex_weights.nbytes
            if d.coeff_map is not None:
                n += d.coeff_map.matrix.nbytes
        if self.binding.index is not None:
            n += self.binding.index.size * 4
        if self.binding.barycentric is not None:
            n += self.binding.barycentric.nbytes
        return n
