"""A kernel's sha covers every library file its behaviour lives in (issue 13): the entry file and what it
imports inside mamba2_kernels/ (sweep_provenance.KERNEL_DEPS), combined as sha256 of the sorted lines
"<path> <sha256 of the file>\\n". The expected values here are computed from the files with plain
hashlib, never by the code under test. CPU, no kernel runs, well under a second."""
from __future__ import annotations

import ast
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from mamba2_runner.sweep_provenance import GENERATED_FILES, KERNEL_DEPS, kernel_set_sha
from mamba2_runner.tuning import engine

ROOT = Path(__file__).resolve().parents[4]
LIBRARY = ROOT / "packages/kernels/python/mamba2_kernels"


def relative_imports(root: Path, rel: str) -> list[str]:
    """Library files `rel` imports with a relative import, anywhere in it (function-level ones too)."""
    here = Path(rel).parent
    out = []
    for node in ast.walk(ast.parse((root / rel).read_text())):
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        base = here
        for _ in range(node.level - 1):
            base = base.parent
        if node.module:
            out.append((base / (node.module.replace(".", "/") + ".py")).as_posix())
        else:  # from . import x: a module x.py (else a name of the package's __init__.py)
            for a in node.names:
                mod = (base / (a.name + ".py")).as_posix()
                out.append(mod if (root / mod).is_file() else (base / "__init__.py").as_posix())
    return [p[2:] if p.startswith("./") else p for p in out]


def closure(root: Path, entry: str) -> list[str]:
    seen: set[str] = set()
    todo = [entry]
    while todo:
        f = todo.pop()
        if f in seen or f in GENERATED_FILES:
            continue
        seen.add(f)
        todo += relative_imports(root, f)
    return sorted(seen)


def spec_sha(root: Path, files) -> str:
    """The definition, from the bytes: a generated copy's three header lines are not the kernel."""
    lines = []
    for f in sorted(files):
        text = (root / f).read_text()
        if text.startswith("# generated from "):
            text = text.split("\n", 3)[3]
        lines.append(f"{f} {hashlib.sha256(text.encode()).hexdigest()}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


@pytest.mark.parametrize("entry", sorted(KERNEL_DEPS))
def test_each_kernels_file_table_is_the_closure_of_its_relative_imports_inside_the_library(entry):
    assert list(KERNEL_DEPS[entry]) == closure(LIBRARY, entry), (
        f"sweep_provenance.KERNEL_DEPS[{entry!r}] is stale: set it (and packages/codegen/src/lower/launch.ts "
        f"KERNEL_DEPENDENCIES) to {closure(LIBRARY, entry)}")


def test_the_forward_record_sha_is_the_definition_over_ssd_fused_and_every_file_it_imports():
    want = spec_sha(LIBRARY, closure(LIBRARY, "kernels/ssd_fused.py"))
    assert "kernels/ssd_fused_dispatch.py" in closure(LIBRARY, "kernels/ssd_fused.py")
    assert engine.record_sha("fwd", engine.kernel_shas()) == want == kernel_set_sha(LIBRARY, "kernels/ssd_fused.py")
    assert engine.record_sha("bwd", engine.kernel_shas()) == spec_sha(LIBRARY, closure(LIBRARY, "kernels/ssd_bwd.py"))


def test_a_generated_package_hashes_its_copies_as_the_library_and_as_its_launch_config_records():
    pkg = ROOT / "kernels-out/mamba2_simple/mamba2_simple"
    launch = json.loads((pkg.parent / "manifest.json").read_text())["launch"]
    for section in ("fused", "bwd"):
        entry = launch[section]["kernel"]
        assert kernel_set_sha(pkg, entry) == spec_sha(pkg, KERNEL_DEPS[entry]) == kernel_set_sha(LIBRARY, entry)
        assert launch[section]["kernel_sha"] == kernel_set_sha(pkg, entry), f"{section}: run pnpm gen:all"


@pytest.fixture()
def two_libraries(tmp_path):
    """Two copies of the library's files a sweep hashes: `before` as it is, `after` to alter."""
    files = sorted({f for fs in KERNEL_DEPS.values() for f in fs})
    for name in ("before", "after"):
        for f in files:
            (tmp_path / name / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(LIBRARY / f, tmp_path / name / f)
    return tmp_path / "before", tmp_path / "after"


@pytest.mark.parametrize("kind, changed, unchanged", [
    ("fwd", "kernels/ssd_fused_dispatch.py", "bwd"),
    ("bwd", "kernels/ssd_bwd_T.py", "fwd"),
    ("fwd", "kernels/ssd_common.py", None),
])
def test_a_change_confined_to_a_dependency_file_is_a_new_kernel_and_a_sweep_refuses_to_mix_it(
        two_libraries, kind, changed, unchanged):
    before, after = two_libraries
    path = after / changed
    path.write_text(path.read_text().replace("\n", "\n# retuned\n", 1))
    old, new = engine.kernel_shas(before), engine.kernel_shas(after)
    assert engine.record_sha(kind, new) != engine.record_sha(kind, old)
    assert engine.record_sha(kind, new) == spec_sha(after, KERNEL_DEPS[engine.KIND_KERNELS[kind][0]])
    if unchanged is not None:  # a file the other kernel does not import leaves its sha as it was
        assert engine.record_sha(unchanged, new) == engine.record_sha(unchanged, old)
    assert engine.record_sha("block", new) != engine.record_sha("block", old)
    rec = {"type": "config", "id": f"{kind}:x", "kind": kind, "kernel_sha": engine.record_sha(kind, old), "kernel_shas": old}
    engine.refuse_mixed([rec], old)
    with pytest.raises(engine.MixedKernels) as err:
        engine.refuse_mixed([rec], new)
    msg = str(err.value)
    assert f"measured on kernel {engine.record_sha(kind, old)[:12]}" in msg
    assert f"{kind} kernel is {engine.record_sha(kind, new)[:12]} ({changed} changed since)" in msg
    assert "the sha covers " + ", ".join(engine.kind_files(kind)) in msg
    assert "never mixes kernels: pass another --out" in msg
