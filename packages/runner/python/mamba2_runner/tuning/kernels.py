"""Kernel sweeps of the library's SSD scan, forward (kernels/ssd_fused.py) and backward (kernels/ssd_bwd.py, v4).

Knobs, all of which the kernels already take (LaunchConfig `fused` / `bwd`):
  fwd: block_q (the walk's time tile), block_p, num_warps, num_stages (call
       arguments of ssd_fused_fwd; also a LAUNCH.tuned row), and split (the
       T+pre walk's L-segments, LAUNCH.fused.split: set on the module's LAUNCH
       for the call, as a package generated with --split would).
  bwd: block_q, block_p, num_warps (chunk kernel), walk_warps, nsplit (head
       split of the chunk kernel) and impl (v4, v5s), call arguments of ssd_bwd.
Shapes: headdim 64, d_state 128, one group (the bench packages), at nheads 48
(d_model 1536) and 80 (d_model 2560) and two seqlen buckets each, so every
(nheads, seqlen bucket) the tuned table dispatches on at those packages is
measured. The incumbent (mamba_ssm's mamba_chunk_scan_combined, chunk 256, and
its backward through autograd) is a config of each problem (provider `mamba_ssm`).

Checks: the forward on a prefix (batch 0, first `check_seqlen` steps, first
`check_heads` heads) against ref_scan in float64; the backward with a cotangent
that is zero outside that prefix, so every gradient restricted to it equals the
prefix problem's, against torch autograd through ref_scan in float64.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import os
from typing import Any, Optional

from .floor import kernel_floor

SHAPES = [  # (batch, seqlen, nheads): nheads 48 = d_model 1536, 80 = d_model 2560 at headdim 64
    (8, 2048, 48), (2, 8192, 48), (4, 4096, 80), (1, 16384, 80),
]
SMOKE_SHAPES = [(1, 64, 4)]  # nheads 4, headdim 32: kernels-out/mamba2_layer_dssm, for the tuned smoke
HEADDIM, D_STATE = 64, 128
FWD_GRID = dict(block_q=[32, 64], block_p=[32, 64], num_warps=[4, 8], num_stages=[2, 3])
FWD_SPLITS = [1, 2, 4]
BWD_GRID = dict(block_q=[32, 64], block_p=[32, 64], num_warps=[4, 8], walk_warps=[4, 8])
BWD_EXTRA = [{"nsplit": 1}, {"nsplit": 2}, {"impl": "v5s"}]
SMOKE_FWD_GRID = dict(block_q=[16], block_p=[16, 32])
SMOKE_BWD_GRID = dict(block_q=[16], block_p=[32])


def _grid(grid: dict) -> list[dict]:
    keys = list(grid)
    return [dict(zip(keys, vals)) for vals in itertools.product(*(grid[k] for k in keys))]


def _pid(params: dict) -> str:
    return "-".join(f"{k}{v}" for k, v in params.items()) or "default"


def configs(opts: dict) -> list[dict]:
    smoke = bool(opts.get("smoke"))
    shapes = SMOKE_SHAPES if smoke else SHAPES
    p, n = (32, 16) if smoke else (HEADDIM, D_STATE)
    out: list[dict] = []
    for kind in ("fwd", "bwd"):
        if kind not in opts.get("kinds", ("fwd", "bwd")):
            continue
        if kind == "fwd":
            params = [{}] + _grid(SMOKE_FWD_GRID if smoke else FWD_GRID) + [{"split": s} for s in ([2] if smoke else FWD_SPLITS)]
        else:
            params = [{}] + _grid(SMOKE_BWD_GRID if smoke else BWD_GRID) + ([{"nsplit": 1}] if smoke else BWD_EXTRA)
        for si, (b, l, h) in enumerate(shapes):
            shape = {"batch": b, "seqlen": l, "nheads": h, "headdim": p, "d_state": n, "ngroups": 1}
            problem = f"{kind}-B{b}-L{l}-H{h}-P{p}-N{n}"
            for prm in params:
                out.append({"id": f"{kind}:{_pid(prm)}@{problem}", "kind": kind, "problem": problem, "shape": shape,
                            "params": prm, "provider": "ours", "check_group": problem})
            if opts.get("incumbent", True) and not smoke:
                # the shapes of one kind compile a share each of the incumbent's autotuning candidates
                out.append({"id": f"{kind}:mamba_ssm@{problem}", "kind": kind, "problem": problem, "shape": shape,
                            "params": {"chunk_size": 256}, "provider": "mamba_ssm", "check_group": problem + "/mamba_ssm",
                            "warm_shard": [si, len(shapes)]})
    return out


def floor(cfg: dict, ms: Optional[float], gpu: Optional[str]) -> dict:
    return kernel_floor(cfg["kind"], cfg["shape"], ms, gpu)


_INPUTS: dict = {}
_REFS: dict = {}


def inputs(shape: dict, device: str, dtype_name: str) -> dict:
    """Fresh random inputs per (shape) in this process (never zeros); reused by the configs of one problem."""
    import torch

    key = (tuple(sorted(shape.items())), device, dtype_name)
    if key in _INPUTS:
        return _INPUTS[key]
    _INPUTS.clear()
    _REFS.clear()
    b, l, h, p, n, g = (shape[k] for k in ("batch", "seqlen", "nheads", "headdim", "d_state", "ngroups"))
    dt_ = getattr(torch, dtype_name)
    gen = torch.Generator(device=device).manual_seed(int.from_bytes(os.urandom(4), "little"))

    def rnd(*size, scale=1.0, dtype=dt_):
        return (torch.randn(*size, generator=gen, device=device) * scale).to(dtype)

    i = {
        "x": rnd(b, l, h, p), "dt": rnd(b, l, h, scale=0.5, dtype=torch.float32),
        "A": -torch.exp(torch.rand(h, generator=gen, device=device) * math.log(16.0)),
        "B": rnd(b, l, g, n, scale=n ** -0.5), "C": rnd(b, l, g, n, scale=n ** -0.5),
        "D": rnd(h, dtype=torch.float32), "dt_bias": torch.rand(h, generator=gen, device=device) - 2.0,
        "dout": rnd(b, l, h, p),
    }
    _INPUTS[key] = i
    return i


def check_slice(shape: dict, opts: dict) -> tuple[int, int]:
    """(seqlen, heads) of the checked prefix (batch 0): several chunks at every block_q, whole heads."""
    return min(shape["seqlen"], int(opts.get("check_seqlen", 512))), min(shape["nheads"], int(opts.get("check_heads", 4)))


class Case:
    def __init__(self, cfg: dict, device: str, opts: dict):
        self.cfg, self.device, self.opts = cfg, device, opts
        self.dtype = opts.get("dtype", "bfloat16")
        self._shard = None  # set by check(): a check process compiles a share of the incumbent's candidates
        self.i = inputs(cfg["shape"], device, self.dtype)

    # -- the call

    def _ours_fwd(self):
        from mamba2_kernels.kernels import ssd_fused

        i, prm = self.i, dict(self.cfg["params"])
        split = prm.pop("split", None)
        chunk = prm.get("block_q", 256)  # the module's chunk_size (256) caps block_q; a swept block_q is its own cap

        def call():
            return ssd_fused.ssd_fused_fwd(i["x"], i["dt"], i["A"], i["B"], i["C"], chunk, D=i["D"], dt_bias=i["dt_bias"],
                                           dt_softplus=True, **prm)[0]

        if split is None:
            return call
        base = ssd_fused.LAUNCH
        patched = dataclasses.replace(base, fused=dataclasses.replace(base.fused, split=int(split)))

        def with_split():
            ssd_fused.LAUNCH = patched  # what a package generated with this split reads
            try:
                return call()
            finally:
                ssd_fused.LAUNCH = base

        return with_split

    def _ours_bwd(self):
        from mamba2_kernels.kernels.ssd_bwd import ssd_bwd

        i, prm = self.i, dict(self.cfg["params"])
        impl = prm.pop("impl", "v4")

        def call():
            return ssd_bwd(i["dout"], i["x"], i["dt"], i["A"], i["B"], i["C"], D=i["D"], dt_bias=i["dt_bias"],
                           dt_softplus=True, impl=impl, **prm)

        return call

    def _incumbent(self, kind: str, dout=None):
        import torch

        from ..bench.baseline import load_mamba_ssm

        from .model import incumbent_autotune

        if self.device != "cuda":
            raise RuntimeError("mamba_ssm's kernels need CUDA")
        op = load_mamba_ssm()["mamba_chunk_scan_combined"]
        incumbent_autotune(self._shard)
        i, q = self.i, int(self.cfg["params"].get("chunk_size", 256))
        if kind == "fwd":
            return lambda: op(i["x"], i["dt"], i["A"], i["B"], i["C"], q, D=i["D"], dt_bias=i["dt_bias"], dt_softplus=True)
        leaves = {k: i[k].detach().clone().requires_grad_() for k in ("x", "dt", "A", "B", "C", "D", "dt_bias")}
        out = op(leaves["x"], leaves["dt"], leaves["A"], leaves["B"], leaves["C"], q, D=leaves["D"],
                 dt_bias=leaves["dt_bias"], dt_softplus=True)
        g = i["dout"] if dout is None else dout
        names = list(leaves)

        def bwd():
            gr = torch.autograd.grad(out, [leaves[k] for k in names], g, retain_graph=True)
            return dict(zip(["d" + k for k in names], gr))

        return bwd

    def fn(self):
        kind, prov = self.cfg["kind"], self.cfg.get("provider", "ours")
        if prov == "mamba_ssm":
            return self._incumbent(kind)
        return self._ours_fwd() if kind == "fwd" else self._ours_bwd()

    # -- the check

    def check(self) -> tuple[float, float, str]:
        from ..checks import rel_err, rel_errs, worst
        from ..verify import GRAD_TOLERANCES, TOLERANCES

        kind, shape = self.cfg["kind"], self.cfg["shape"]
        self._shard = self.cfg.get("warm_shard")
        lc, hc = check_slice(shape, self.opts)
        if kind == "fwd":
            out = self.fn()()
            err = rel_err(out[:1, :lc, :hc], self._ref_fwd(lc, hc))
            return err, float(TOLERANCES[(self.device, self.dtype)]["dot"]), f"out[0, :{lc}, :{hc}]"
        import torch

        dout = torch.zeros_like(self.i["dout"])
        dout[:1, :lc, :hc] = self.i["dout"][:1, :lc, :hc]
        saved = self.i["dout"]
        self.i["dout"] = dout
        try:
            if self.cfg.get("provider", "ours") == "mamba_ssm":
                g = self._incumbent("bwd", dout)()
            else:
                g = self.fn()()
        finally:
            self.i["dout"] = saved
        ref = self._ref_bwd(lc, hc, dout)
        got = {"dx": g["dx"][:1, :lc, :hc], "ddt": g["ddt"][:1, :lc, :hc], "dB": g["dB"][:1, :lc], "dC": g["dC"][:1, :lc],
               "dA": g["dA"][:hc], "dD": g["dD"][:hc], "ddt_bias": g["ddt_bias"][:hc]}
        errs = rel_errs(got, ref)
        return worst(errs), float(GRAD_TOLERANCES[(self.device, self.dtype)]), \
            "worst of " + ", ".join(f"{k} {v:.2g}" for k, v in errs.items())

    def _sl(self, lc: int, hc: int, grad: bool = False) -> dict:
        i = self.i
        f = {"x": i["x"][:1, :lc, :hc], "dt": i["dt"][:1, :lc, :hc], "A": i["A"][:hc], "B": i["B"][:1, :lc],
             "C": i["C"][:1, :lc], "D": i["D"][:hc], "dt_bias": i["dt_bias"][:hc]}
        return {k: (v.double().requires_grad_() if grad else v.double()) for k, v in f.items()}

    def _ref_fwd(self, lc: int, hc: int):
        from ..reference.scan import ref_scan

        key = ("fwd", lc, hc)
        if key not in _REFS:
            s = self._sl(lc, hc)
            out = ref_scan(s["x"], s["dt"], s["A"], s["B"], s["C"], D=s["D"], dt_bias=s["dt_bias"], dt_softplus=True)
            _REFS[key] = out[0] if isinstance(out, tuple) else out
        return _REFS[key]

    def _ref_bwd(self, lc: int, hc: int, dout) -> dict:
        import torch

        from ..reference.scan import ref_scan

        key = ("bwd", lc, hc)
        if key not in _REFS:
            s = self._sl(lc, hc, grad=True)
            out = ref_scan(s["x"], s["dt"], s["A"], s["B"], s["C"], D=s["D"], dt_bias=s["dt_bias"], dt_softplus=True)
            out = out[0] if isinstance(out, tuple) else out
            names = ["x", "dt", "B", "C", "A", "D", "dt_bias"]
            gr = torch.autograd.grad(out, [s[k] for k in names], dout[:1, :lc, :hc].double())
            _REFS[key] = {"d" + k: v for k, v in zip(names, gr)}
        return _REFS[key]


__all__ = ["Case", "SHAPES", "configs", "floor", "inputs"]
_ = Any
