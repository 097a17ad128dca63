"""Why test_bwd_resets' Inf-dt case fails on CUDA (call14: dz of the two-launch
backward differs from the exact form alone, v4 and v5s; the finite cases pass).
Same inputs as that test (made on CPU with one seed, then moved), for v4 and v5s:
the two-launch result, exact_only, and (a second process under TRITON_INTERPRET=1)
the CPU result; per gradient: positions whose NaN-ness differs, as (t, head),
and rel err over the positions finite in both.
    python3 scripts/gpu/reset_diag.py --save /tmp/cpu.pt   (with TRITON_INTERPRET=1: the CPU side)
    python3 scripts/gpu/reset_diag.py --cpu /tmp/cpu.pt    (on the GPU: prints the comparisons)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packages/kernels/python/tests"))
import test_bwd_resets as T  # noqa: E402
from mamba2_kernels.kernels import ssd_bwd  # noqa: E402


def grads(device):
    torch.manual_seed(0)
    inp = {k: v.to(device) for k, v in T._inputs("cpu", False).items()}
    inp["dt"][0, 21, 1] = float("inf")
    torch.manual_seed(1)
    dout = torch.randn(inp["x"].shape).to(device)
    out = {}
    for impl in ("v4", "v5s"):
        for exact in (False, True):
            g = ssd_bwd.ssd_bwd(dout, **inp, impl=impl, block_q=T.Q, nsplit=2, exact_only=exact)
            out[f"{impl}-{'exact' if exact else 'two'}"] = {k: v.detach().cpu() for k, v in g.items() if v is not None}
    return out


def compare(name, a, b):
    for k in a:
        x, y = a[k].double(), b[k].double()
        nx, ny = torch.isnan(x), torch.isnan(y)
        diff = (nx != ny)
        where = ""
        if diff.any():
            idx = diff.nonzero()[:6].tolist()
            where = f" first at {idx} (a NaN: {nx[diff].sum().item()}, b NaN: {ny[diff].sum().item()})"
        m = ~(nx | ny) & torch.isfinite(x) & torch.isfinite(y)
        inf_diff = (torch.isinf(x) != torch.isinf(y)).sum().item()
        err = ((x[m] - y[m]).norm() / y[m].norm().clamp_min(1e-30)).item() if m.any() else 0.0
        print(f"{name:28} {k:16} nan-mismatch {diff.sum().item():5d}  inf-mismatch {inf_diff:4d}  rel err {err:.2e}{where}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--save")
    ap.add_argument("--cpu")
    a = ap.parse_args()
    if a.save:
        torch.save(grads("cpu"), a.save)
        return
    gpu = grads("cuda")
    cpu = torch.load(a.cpu) if a.cpu else None
    for impl in ("v4", "v5s"):
        compare(f"{impl} two vs exact (cuda)", gpu[f"{impl}-two"], gpu[f"{impl}-exact"])
        if cpu:
            compare(f"{impl} exact cuda vs cpu", gpu[f"{impl}-exact"], cpu[f"{impl}-exact"])
            compare(f"{impl} two cuda vs cpu", gpu[f"{impl}-two"], cpu[f"{impl}-two"])


if __name__ == "__main__":
    main()
