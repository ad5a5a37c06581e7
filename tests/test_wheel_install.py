"""A wheel carries everything the codec reads at run time (issue 8, part 5: spec tables as package data).

The wheel is built offline (``--no-build-isolation``, the running environment's setuptools) from a
copy of the sources, installed with ``--no-deps`` into a fresh venv whose only other path is the
running environment's site-packages (for numpy, construct, zstandard; a ``.pth`` line does not run
that directory's own ``.pth`` files, so the editable install of the checkout stays out). Then,
from a directory outside the checkout, it imports refcodec, checks that the tables come from the
installed package, and decodes a stream vector and a container vector.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from refcodec.fca import decode_avatar
from refcodec.fcs.decoder import decode_file

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["refcodec", "tools", "conformance", "spec", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md"]

_USE = """
import hashlib, sys
from pathlib import Path
import refcodec, refcodec.spec_tables as st
from refcodec.fcs.decoder import decode_file
from refcodec.fca import decode_avatar
from refcodec.fca.container import read_container
from refcodec.fca.dump import canonical_dump
assert Path(refcodec.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve()), refcodec.__file__
assert st.spec_dir().resolve() == Path(refcodec.__file__).resolve().parent / "spec", st.spec_dir()
stream = decode_file(Path(sys.argv[2]).read_bytes())
print(len(stream.frames), stream.matrix().shape)
print(hashlib.md5(canonical_dump(read_container(Path(sys.argv[3]).read_bytes()))).hexdigest())
print(decode_avatar(Path(sys.argv[3]).read_bytes()).gaussians.count)
"""


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    assert proc.returncode == 0, f"{cmd}: {proc.stdout[-1500:]} {proc.stderr[-3000:]}"
    return proc


def test_wheel_installs_and_decodes_without_the_source_tree(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("vectors", "__pycache__", "*.pyc")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    pip = [sys.executable, "-m", "pip"]
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(tmp_path / "dist"), str(src)], env=env)
    (wheel,) = (tmp_path / "dist").glob("facecodec-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    tables = sorted(p.name for p in (ROOT / "spec").glob("*.toml"))
    assert {f"refcodec/spec/{t}" for t in tables} <= names, sorted(n for n in names if "spec" in n)

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    _run([*pip, "install", "--no-deps", "--no-index", "-q", "--target", str(purelib), str(wheel)], env=env)
    (purelib / "running_env.pth").write_text("".join(p + "\n" for p in site.getsitepackages()))
    py = venv / "bin" / "python"
    stream = ROOT / "conformance/vectors/stream/y_real_track.fcs"
    container = ROOT / "conformance/vectors/container/y_vertex_full.fca"
    out = _run([str(py), "-c", _USE, str(purelib), str(stream), str(container)], cwd=tmp_path, env=env).stdout.split("\n")
    expected = decode_file(stream.read_bytes())  # the same answers as the checkout's code
    assert out[0] == f"{len(expected.frames)} {expected.matrix().shape}"
    assert out[1] == json.loads(container.with_suffix(".json").read_text())["expected"]["dump_md5"]
    assert out[2] == str(decode_avatar(container.read_bytes()).gaussians.count)
