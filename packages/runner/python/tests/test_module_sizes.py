"""No hand-written module of the repository is over 800 lines (issue 11).

Every Python, TypeScript and JavaScript file under the hand-written roots is
counted. Nothing is left out except what is written here, each for a reason:

- folders no one writes: dependencies, caches and build outputs (PRUNED);
- vitest's ``__snapshots__`` (written by the tests themselves);
- the files of a generated package, a folder whose ``manifest.json`` names
  its generator: only the files that manifest lists (``pnpm gen:check``
  proves they are what gen emits). Any other file in such a folder is counted.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
LIMIT = 800
SUFFIXES = {".py", ".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs"}
PRUNED = {"node_modules", "__pycache__", ".pytest_cache", ".turbo", ".venv", "dist", "__snapshots__"}
# The hand-written roots: each package's TypeScript (src, test), the kernel
# library and the runner's Python, scripts, bench, the examples, test/, and
# kernels-out/ (where only the manifests' files are left out).
ROOTS = sorted(
    [p for p in (ROOT / "packages").glob("*/src")]
    + [p for p in (ROOT / "packages").glob("*/test")]
    + [ROOT / "packages/kernels/python", ROOT / "packages/runner/python",
       ROOT / "scripts", ROOT / "bench", ROOT / "examples", ROOT / "test", ROOT / "kernels-out"]
)


def _generated_files(folder: Path) -> set | None:
    """The files a generated package's manifest lists, or None if `folder` is not one."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return None
    data = json.loads(manifest.read_text())
    if "generator" not in data:
        return None
    return {folder / f["path"] for f in data["files"]}


def _modules() -> tuple:
    """(every counted module, the generated files left out)."""
    counted, generated = [], set()
    for root in ROOTS:
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if d not in PRUNED)
            listed = _generated_files(here)
            if listed is not None:
                generated |= listed
            for f in sorted(filenames):
                p = here / f
                if p.suffix in SUFFIXES and p not in generated:
                    counted.append(p)
    return counted, generated


def test_no_hand_written_module_in_the_repository_is_over_800_lines():
    missing = [str(r.relative_to(ROOT)) for r in ROOTS if not r.is_dir()]
    assert not missing, f"the module-size check's roots {missing} do not exist: update ROOTS in {Path(__file__).name}"
    counted, generated = _modules()
    names = {str(p.relative_to(ROOT)) for p in counted}
    # the walk reaches every root and both languages (it cannot pass by finding nothing)
    for expect in ("packages/dsl/src/builder/builder.ts", "packages/runner/python/mamba2_runner/verify.py",
                   "packages/kernels/python/mamba2_kernels/__init__.py", "bench/models/block-1536.ts"):
        assert expect in names, f"{expect} was not counted: the walk in {Path(__file__).name} misses files"
    assert ROOT / "kernels-out/mamba2_simple/mamba2_simple/kernels/ssd_fused.py" in generated, (
        "kernels-out/mamba2_simple was not recognised as generated: its manifest.json lost 'generator' or 'files'"
    )
    long = sorted((n, str(p.relative_to(ROOT))) for p in counted
                  if (n := len(p.read_text(encoding="utf-8").splitlines())) > LIMIT)
    assert not long, (
        f"{len(long)} hand-written module(s) over {LIMIT} lines (issue 11: no hand-written module over "
        f"{LIMIT} lines):\n"
        + "\n".join(f"  {path}: {n} lines, {n - LIMIT} over" for n, path in long)
        + f"\nfix: split each along a real seam into modules of at most {LIMIT} lines, re-exporting "
        "what callers import from the old module; then run pnpm gen if it is a kernel library file."
    )
