"""Why the fused forward is slower at the cross-scan shapes than the BENCH shapes (2026-12-01d, call9:
one plain scan of (16, 3136, 8, 64, d_state 64) took 0.419 ms, while (1, 16384, 80, 64, 128) takes
0.40). One process, bf16, do_bench medians (ms) of ssd_fused_fwd at each launch variant, a BENCH
shape as the control; each variant's output is compared with the default's first (rel err).

    PYTHONPATH=packages/runner/python:packages/kernels/python python3 scripts/gpu/scan_probe.py
"""
from __future__ import annotations

import torch
import triton

from mamba2_kernels.kernels import ssd_fused as fused
from mamba2_kernels.kernels import ssd_fused_dispatch as dispatch

SHAPES = [(16, 3136, 8, 64, 64), (16, 3136, 8, 64, 128), (4, 4096, 80, 64, 128)]  # b, l, h, p, n


def inputs(b, l, h, p, n):
    g = torch.Generator(device="cuda").manual_seed(0)
    r = lambda *s, dt=torch.bfloat16: torch.randn(*s, device="cuda", generator=g).to(dt)  # noqa: E731
    return dict(x=r(b, l, h, p), dt=r(b, l, h, dt=torch.float32), A=-torch.rand(h, device="cuda", generator=g) - 0.5,
                B=r(b, l, 1, n), C=r(b, l, 1, n), D=torch.randn(h, device="cuda", generator=g),
                dt_bias=torch.randn(h, device="cuda", generator=g) - 2.0)


def run(t, **kw):
    return fused.ssd_fused_fwd(t["x"], t["dt"], t["A"], t["B"], t["C"], 256, D=t["D"], dt_bias=t["dt_bias"],
                               dt_softplus=True, **kw)[0]


def main():
    real_split, real_pre = dispatch.pick_split, dispatch.use_pre
    rows = []
    for shape in SHAPES:
        t = inputs(*shape)
        ref = run(t).float()
        variants = {"default": {}, "exact_only": dict(exact_only=True), "block_p 32": dict(block_p=32)}
        for k in (1, 2, 4):
            variants[f"split {k}"] = dict(_split=k)
        variants["one-launch"] = dict(_pre=False)
        for name, kw in variants.items():
            kw = dict(kw)
            split, pre = kw.pop("_split", None), kw.pop("_pre", None)
            dispatch.pick_split = (lambda *a, _k=split: _k) if split else real_split
            dispatch.use_pre = (lambda *a, _p=pre: _p) if pre is not None else real_pre
            try:
                y = run(t, **kw).float()
                err = ((y - ref).norm() / ref.norm()).item()
                ms = triton.testing.do_bench(lambda: run(t, **kw), warmup=25, rep=100)
            except Exception as e:  # noqa: BLE001
                err, ms = float("nan"), float("nan")
                print(shape, name, "error", repr(e)[:200])
            rows.append((shape, name, ms, err))
            print(f"{str(shape):28s} {name:12s} {ms:8.3f} ms  rel err vs default {err:.1e}", flush=True)
        dispatch.pick_split, dispatch.use_pre = real_split, real_pre


if __name__ == "__main__":
    main()
