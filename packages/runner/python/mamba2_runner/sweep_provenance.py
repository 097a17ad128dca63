"""Provenance of sweep records: which kernel (kernel_sha), GPU, driver, versions and commit.

Every record the supervisor writes is stamped here, and a results file never
mixes kernels: `check_one_kernel` refuses a --resume onto records of another
kernel sha (or of none: an older sweep), as `gen --tuned` refuses such tables.
"""
from __future__ import annotations

import hashlib
import platform
import subprocess
from pathlib import Path
from typing import Any, Callable, Optional

from .sweep_results import utc_now


KERNEL_HEADERS = ("# generated from ", "# ir-hash: ", "# copied from ")


def kernel_sha(source: str) -> str:
    """sha256 of a kernel's library source: the text of
    packages/kernels/python/mamba2_kernels/kernels/ssd_fused.py, which is also a
    generated copy without its header lines (generated-from, ir-hash,
    copied-from), so every package of one checkout has the same sha.
    packages/codegen/src/tuned.ts (kernelSha) computes the same."""
    lines = source.split("\n")
    while lines and lines[0].startswith(KERNEL_HEADERS):
        lines.pop(0)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


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
            f"the plan {plan.path} has packages of {len(mine)} different ssd_fused.py ({', '.join(s[:12] for s in sorted(mine))}). "
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
