"""Provenance of sweep records: which kernel (kernel_sha), GPU, driver, versions and commit.

A kernel's sha covers every library file its behaviour lives in (KERNEL_DEPS:
the entry file and what it imports inside the library), so a change confined
to e.g. ssd_fused_dispatch.py makes a new kernel sha (kernel_set_sha).

Every record the supervisor writes is stamped here, and a results file never
mixes kernels: `check_one_kernel` refuses a --resume onto records of another
kernel sha (or of none: an older sweep), as `gen --tuned` refuses such tables.
"""
from __future__ import annotations

import hashlib
import platform
import subprocess
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

from .sweep_results import utc_now


KERNEL_HEADERS = ("# generated from ", "# ir-hash: ", "# copied from ")


# The library files each kernel's behaviour lives in (paths inside mamba2_kernels/): the entry file and
# the transitive closure of its relative imports (`from .x import`, `from . import x`, `from ..x import`,
# function-level ones too), minus the files codegen writes per package (_config.py, _fragments.py,
# __init__.py, kernels/__init__.py), whose imports are not followed. A test holds this table equal to
# that closure (test_tuning.py), and codegen's (packages/codegen/src/lower/launch.ts KERNEL_DEPENDENCIES)
# equal to this one.
KERNEL_DEPS: dict[str, tuple[str, ...]] = {
    "kernels/ssd_fused.py": ("fragments.py", "kernels/dt.py", "kernels/fastlaunch.py", "kernels/host.py", "kernels/smem.py",
                             "kernels/ssd_common.py", "kernels/ssd_fused.py", "kernels/ssd_fused_dispatch.py",
                             "kernels/ssd_fused_one.py"),
    "kernels/ssd_chunked.py": ("fragments.py", "kernels/fastlaunch.py", "kernels/host.py", "kernels/smem.py", "kernels/ssd_chunked.py",
                               "kernels/ssd_common.py"),
    "kernels/ssd_bwd.py": ("fragments.py", "kernels/dt.py", "kernels/fastlaunch.py", "kernels/host.py", "kernels/smem.py", "kernels/ssd_bwd.py",
                           "kernels/ssd_bwd_T.py", "kernels/ssd_bwd_common.py", "kernels/ssd_bwd_v6.py",
                           "kernels/ssd_common.py"),
    "kernels/conv.py": ("fragments.py", "kernels/conv.py", "kernels/fastlaunch.py", "kernels/host.py"),
    "kernels/conv_bwd.py": ("kernels/conv_bwd.py", "kernels/fastlaunch.py"),
    "kernels/norm.py": ("fragments.py", "kernels/fastlaunch.py", "kernels/host.py", "kernels/norm.py"),
    "kernels/norm_bwd.py": ("kernels/fastlaunch.py", "kernels/norm_bwd.py"),
}
# Written per package by codegen (they differ between packages): never part of a kernel sha.
GENERATED_FILES = ("__init__.py", "_config.py", "_fragments.py", "kernels/__init__.py")


def kernel_sha(source: str) -> str:
    """sha256 of one library file's source: the file in
    packages/kernels/python/mamba2_kernels/, which is also a generated copy
    without its header lines (generated-from, ir-hash, copied-from), so every
    package of one checkout has the same sha. packages/codegen/src/tuned.ts
    (kernelSha) computes the same."""
    lines = source.split("\n")
    while lines and lines[0].startswith(KERNEL_HEADERS):
        lines.pop(0)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def combined_sha(file_shas: Mapping[str, str]) -> str:
    """One sha for a set of files: sha256 of the lines "<path> <kernel_sha>\\n" sorted by path (paths inside
    mamba2_kernels/, '/' separated). packages/codegen/src/tuned.ts (combinedSha) computes the same."""
    return hashlib.sha256("".join(f"{p} {file_shas[p]}\n" for p in sorted(file_shas)).encode()).hexdigest()


def file_shas(root: Path, files: Iterable[str]) -> Optional[dict[str, str]]:
    """kernel_sha of each file under `root` (the library's mamba2_kernels/, or a generated package's
    module folder: its copies hash as the library files do); None when one is missing."""
    out: dict[str, str] = {}
    for f in files:
        p = Path(root) / f
        if not p.is_file():
            return None
        out[f] = kernel_sha(p.read_text())
    return out


def kernel_set_sha(root: Path, entry: str = "kernels/ssd_fused.py") -> Optional[str]:
    """The kernel sha of `entry` (a KERNEL_DEPS key): combined_sha over every library file it depends on,
    read under `root` (library or package); None when one of them is missing there."""
    shas = file_shas(root, KERNEL_DEPS[entry])
    return combined_sha(shas) if shas is not None else None


def kernel_set_text(entry: str) -> str:
    """How messages name a kernel's file set."""
    return f"{entry} and what it imports ({', '.join(f for f in KERNEL_DEPS[entry] if f != entry)})"


def _cmd(args: list[str], cwd: Optional[Path] = None) -> Optional[str]:
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=20, cwd=cwd)
    except (OSError, subprocess.SubprocessError):
        return None
    out = p.stdout.strip().splitlines()
    return out[0].strip() if p.returncode == 0 and out else None


def commit_of(plan: Any) -> Optional[str]:
    """The commit the plan was written at (plan.json's `commit`), else the checkout holding the plan."""
    c = plan.data.get("commit")
    if isinstance(c, str) and c:
        return c
    head = _cmd(["git", "rev-parse", "HEAD"], cwd=plan.path.parent)
    if head and _cmd(["git", "status", "--porcelain", "--untracked-files=no"], cwd=plan.path.parent):
        head += "-dirty"
    return head


def provenance(runner: Any) -> dict:
    """What a worker measured on: GPU model, driver, torch, triton, commit (`kernel_sha` and `date` are per record)."""
    import torch
    import triton

    cuda = runner.device == "cuda"
    return {
        "gpu_model": torch.cuda.get_device_name(0) if cuda else f"cpu ({platform.machine()}, Triton interpreter)",
        "driver": _cmd(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]) if cuda else None,
        "cuda": torch.version.cuda,
        "torch": torch.__version__,
        "triton": triton.__version__,
        "python": platform.python_version(),
        "host": platform.node(),
        "commit": commit_of(runner.plan),
    }


def stamp(shas: dict[str, Optional[str]], fallback: dict) -> Callable[[dict, dict], dict]:
    """The supervisor's stamp: every record gets its package's kernel_sha and a provenance block."""

    def add(rec: dict, hello: dict) -> dict:
        sha = rec.get("kernel_sha") or shas.get(str(rec.get("package") or "")) or _only(shas)
        t = rec.get("t") or utc_now()
        prov = {**(hello or fallback), "kernel_sha": sha, "date": t}
        return {**rec, "kernel_sha": sha, "t": t, "provenance": prov}

    return add


def _only(shas: dict[str, Optional[str]]) -> Optional[str]:
    vals = {v for v in shas.values() if v}
    return vals.pop() if len(vals) == 1 else None


def _fallback_provenance(plan: Any) -> dict:
    """For a record no worker vouched for (one that died before its hello): what the supervisor knows."""
    from importlib import metadata

    def version(name: str) -> Optional[str]:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {"gpu_model": None, "driver": None, "cuda": None, "torch": version("torch"), "triton": version("triton"),
            "python": platform.python_version(), "host": platform.node(), "commit": commit_of(plan)}


class MixedKernelsError(Exception):
    pass


def check_one_kernel(plan: Any, records: list[dict], out: Path) -> dict[str, Optional[str]]:
    """Kernel sha per package of the plan; refuses a plan or a results file that mixes kernels."""
    shas = plan.kernel_shas()
    mine = {v for v in shas.values() if v}
    if len(mine) > 1:
        raise MixedKernelsError(
            f"the plan {plan.path} has packages of {len(mine)} different fused scans ({', '.join(s[:12] for s in sorted(mine))}; "
            f"the sha covers {kernel_set_text('kernels/ssd_fused.py')}). "
            "Regenerate them all from one checkout (pnpm bench --sweep <file> --prepare-only).")
    if not mine or not records:
        return shas
    sha = mine.pop()
    other = [r for r in records if "id" in r and r.get("kernel_sha", "absent") not in (sha, None)]
    if other:
        theirs = other[0].get("kernel_sha", "absent")
        what = "carry no kernel_sha (an older sweep)" if theirs == "absent" else f"were measured on kernel {theirs[:12]}"
        raise MixedKernelsError(
            f"{out}: {len(other)} of its {len(records)} records {what}, and this plan's packages are kernel "
            f"{sha[:12]}. A sweep never mixes kernels: pass another --out, or move {out.name} away to start over.")
    return shas
