"""What each stream vector is FOR (the card's ``targets``), as opposed to all it exercises.

A decodable vector exercises most of the syntax, so the coverage report would otherwise list
vectors alphabetically (``i_level_2_max`` first for ``group_zero_flag``). ``targets`` names the
requirements and ``structure.element`` entries a vector was written to test; the coverage
report lists those vectors first. A rejected vector targets the element at which the decoder
must detect the error and the requirements that define that check.
"""

from __future__ import annotations

SH = "sequence_header_unit"
FU = "frame_unit"

#: Requirements nearly every vector exercises and none is written for (the generic error report
#: and its location rule, strict mode, bit order and the canonical dump).
GENERIC = {"R-01", "R-07", "R-34", "R-45", "R-105"}

#: Name prefix -> targets of decodable and implementation-defined vectors.
#: The longest matching key wins.
BY_NAME: dict[str, list[str]] = {
    "y_bitdepth_": ["R-30", "R-33", f"{SH}.group_bit_depth_minus1", f"{FU}.quant_value"],
    "y_crc_header": ["R-19", f"{SH}.header_crc_flag", f"{SH}.header_crc"],
    "y_crc_frame": ["R-19", f"{SH}.frame_crc_flag", f"{FU}.frame_crc"],
    "y_crc_both": ["R-19", f"{SH}.header_crc", f"{FU}.frame_crc"],
    "y_dequant_exactness": ["R-05", "R-30"],
    "y_gap_strict": ["R-42", "R-43", "R-44"],
    "y_gop_first_counter": ["R-25", f"{FU}.frame_counter"],
    "y_gop_intra_only": ["R-24", "R-33"],
    "y_gop_": ["R-24", "R-25", "R-32", f"{FU}.residual", f"{SH}.eg_order"],
    "y_gop_varying": ["R-24", f"{FU}.residual"],
    "y_header_avatar_binding": [f"{SH}.avatar_binding_flag", f"{SH}.avatar_hash"],
    "y_header_changed": ["R-23"],
    "y_header_changed_negative_zero": ["R-23", "R-102", f"{SH}.range_min"],
    "y_header_repeated_range_update": ["R-23", "R-31", "R-102", f"{FU}.range_update_group_flag"],
    "y_residual_after_gap": ["R-42", "R-43", "R-101", f"{FU}.residual"],
    "y_header_frame_rate_ntsc": ["R-13", f"{SH}.frame_rate_num", f"{SH}.frame_rate_den"],
    "y_header_only": ["R-20"],
    "y_header_repeated": ["R-23"],
    "y_intra_pred": ["R-220", "R-221", f"{SH}.intra_pred_flag", f"{SH}.intra_center", f"{SH}.intra_order", f"{FU}.intra_residual"],
    "y_intra_pred_damaged_after_gap": ["R-221", "R-40", "R-107"],
    "y_conceal_extrapolate": ["R-223", f"{SH}.conceal_extrapolate_flag"],
    "y_nominal_ranges": ["R-133", f"{SH}.group_nominal_flag", f"{SH}.range_nominal_flag"],
    "y_xdim": ["R-224", "R-225", f"{SH}.xdim_pred_flag", f"{SH}.xdim_ref_flag", f"{SH}.xdim_ref_delta", f"{SH}.xdim_ref_sign"],
    "y_header_reserved_bits": ["R-12", "R-23", f"{SH}.seq_reserved_2bits", f"{SH}.group_reserved_1bit"],
    "y_layout_": ["R-14", f"{SH}.num_groups", f"{SH}.group_dim_count_minus1"],
    "y_layout_single_dim": [f"{SH}.group_dim_count_minus1"],
    "y_leb128_non_minimal": ["R-04", "fcs_file.unit_size"],
    "y_level_": ["R-09", "R-14", "R-21", f"{SH}.level_idc"],
    "i_level_": ["R-09", "R-14", "R-21", f"{SH}.level_idc"],
    "y_level_frame_rate_fraction": ["R-09", f"{SH}.frame_rate_num", f"{SH}.frame_rate_den"],
    "y_loss_": ["R-40", "R-41", "R-42", "R-43", "R-44", "R-107"],
    "y_loss_no_header_yet": ["R-22", "R-40"],
    "y_loss_residual_error": ["R-32", "R-40"],
    "y_range_": ["R-16", "R-30", f"{SH}.range_min", f"{SH}.range_max"],
    "y_range_update": ["R-31", f"{FU}.range_update_flag", f"{FU}.range_update_group_flag", f"{FU}.range_min", f"{FU}.range_max"],
    "y_range_update_flag_no_groups": ["R-31", f"{FU}.range_update_flag", f"{FU}.range_update_group_flag"],
    "y_real_track": ["R-24", "R-25", "R-30", "R-32", "R-33"],
    "y_reserved_units": ["R-11", "unit.unit_type"],
    "y_semantic_": ["R-15", f"{SH}.group_semantic"],
    "y_semantic_index_map": ["R-15", f"{SH}.group_index_map_flag", f"{SH}.group_dim_index"],
    "y_semantic_reserved": ["R-06", f"{SH}.group_semantic"],
    "y_zero_": ["R-32", f"{SH}.group_zero_flag_enabled", f"{FU}.group_zero_flag"],
}


def _by_name(name: str) -> list[str] | None:
    keys = [k for k in BY_NAME if name.startswith(k)]
    return BY_NAME[max(keys, key=len)] if keys else None


def _error_element(field: str, frame_error: bool) -> str:
    """``structure.element`` of an error's field among the stream syntax elements (spec/syntax.toml)."""
    from ..coverage import stream_elements

    base = field.split("[", 1)[0]
    found = [e for e in stream_elements() if e.split(".", 1)[1] == base]
    if len(found) > 1:  # range_min / range_max exist in headers and in I-frames
        found = [e for e in found if e.startswith(FU if frame_error else SH)]
    if len(found) != 1:
        raise ValueError(f"cannot place the error field {field!r} ({found})")
    return found[0]


def targets(name: str, requirements: list[str], error: dict | None, frame_error: bool = False) -> list[str]:
    """The card's ``targets``: requirements first (numeric order), then elements (sorted).

    ``error`` is the expected error of a rejected vector (its ``field``, the element being read
    or checked when the decoder stops); ``frame_error`` says that the damaged unit is a frame
    unit. The generator lists every target among the card's requirements and syntax elements.
    """
    if error is not None:
        chosen = [r for r in requirements if r not in GENERIC] + [_error_element(error["field"], frame_error)]
    else:
        chosen = _by_name(name)
        if chosen is None:
            raise ValueError(f"{name}: no targets (add it to conformance/stream_targets.BY_NAME)")
    reqs = sorted({t for t in chosen if t.startswith("R-")}, key=lambda r: int(r[2:]))
    return reqs + sorted({t for t in chosen if not t.startswith("R-")})
