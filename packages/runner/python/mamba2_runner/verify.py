"""Check a generated package against the float64 reference.

    python -m mamba2_runner.verify kernels-out/<name> [--device auto|cuda|cpu]
        [--dtypes fp32,bf16] [--json PATH] [--shapes quick|full|auto] [--seed N]

For every op the model uses (causal conv, dt prologue, SSD scan through
mamba_chunk_scan_combined with the model's flags, gated RMSNorm; a vision
block's conv2d and cross scan: verify_vision.py) and for the
whole block (the generated nn.Module with fresh random weights, the same
state_dict loaded into reference.graph.ref_block), over several shapes and
dtypes: relative error ||out - ref|| / ||ref|| in float64 (checks.rel_err)
against the table TOLERANCES below. NaN or inf never passes (checks.passes). Prints a table, exits 1 on failure.

Gradients (--grads, the default; --no-grads skips them; `--ops grads` runs
only them): on small shapes (batch 2, seqlen 1 and one not a multiple of the
chunk), one row per gradient tensor, against torch autograd in float64:
  'grad scan <name>'  x, dt, A, B, C and D / dt_bias / z / initial_states where
                      the model uses them, through mamba_chunk_scan_combined
                      (random cotangents on out and the final state) vs ref_scan;
  'grad block <name>' u and every parameter of the generated module (perturbed
                      random weights, random u and grad_out) vs ref_block (the
                      float64 reference is differentiable as it is).
Tolerances: GRAD_TOLERANCES (CPU fp32 1e-4, CUDA fp32 5e-3, bf16 5e-2).
Where the model's dt_limit has a bound dt can reach, 'grad block' draws u so
that no float64 dt lies within rounding of a bound (the clamp's kink: a flip of
one element moves its whole term in or out of a gradient sum): verify_clamp.py.

Inputs are fresh random data every run (the seed is printed; --seed replays).
Outputs are poisoned: before each call the device's free memory is filled with
NaN bytes (on CUDA the caching allocator hands the same blocks back), so an
element the kernel forgets to write shows up as NaN, not as a lucky zero.
"""
from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from .checks import passes, rel_err
from .pkgload import load_generated, load_ir, read_manifest
from .reference import ref_block, ref_causal_conv1d, ref_dt_transform, ref_rmsnorm_gated, ref_scan
from .verify_clamp import dt_kink_margin, dt_limit as _limit

# --------------------------------------------------------------------- tolerances
# rel err = ||out - ref||_2 / ||ref||_2, reference in float64 from the SAME
# (already rounded) inputs and weights, so only the kernel's own arithmetic
# counts. Two classes of op:
#   "elementwise": conv (<= 8 taps), dt, norm -- short fp32 sums, no tl.dot.
#   "dot":         the SSD scan and the whole block -- tl.dot on chunk tiles.
# fp32 on CUDA: tl.dot takes fp32 operands as TF32 (10-bit mantissa, unit
#   roundoff 2^-11 = 4.9e-4). A few chained dots (C.B^T, then times dt*x,
#   plus the state product) give ~1e-3 in the worst case we expect; 2e-3 keeps
#   headroom while any real bug (a mask, a missed chunk, a wrong decay) is
#   >= 1e-2. Elementwise ops stay in true fp32: 1e-5.
# bf16 (CUDA): outputs are rounded to bf16 (2^-9 = 2e-3 relative) and dot
#   operands are cast to bf16 inside the kernels; 2e-2 for the ops, 3e-2 for
#   the whole block, which also rounds every intermediate tensor between
#   kernels (in_proj, conv out, scan out) to bf16.
# fp32 on CPU (Triton interpreter): numpy does true fp32 dots; 1e-4 is two
#   orders above what it reaches and two below any bug.
TOLERANCES: Dict[tuple, Dict[str, float]] = {
    ("cuda", "float32"): {"elementwise": 1e-5, "dot": 2e-3, "block": 2e-3},
    ("cuda", "bfloat16"): {"elementwise": 2e-2, "dot": 2e-2, "block": 3e-2},
    ("cpu", "float32"): {"elementwise": 1e-5, "dot": 1e-4, "block": 1e-4},
    ("cpu", "bfloat16"): {"elementwise": 2e-2, "dot": 2e-2, "block": 3e-2},
}
# Gradients (rows "grad block <tensor>", "grad scan <tensor>"): the backward
# kernels' dots run in the same precision as the forward ones, and every
# gradient is a longer chain (forward recompute, then dout through the
# transposed chain), so one class for all of them:
#   fp32 on CPU (interpreter, true fp32): measured <= ~1e-5 on the five
#     examples; 1e-4 keeps an order of headroom and any real bug (a dropped
#     term, a wrong scale) is >= 1e-2.
#   fp32 on CUDA: tf32 forward dots (unit roundoff 4.9e-4) chained: 5e-3.
#   bf16: 5e-2 (bf16 rounding of every intermediate, forward and backward).
GRAD_TOLERANCES: Dict[tuple, float] = {
    ("cuda", "float32"): 5e-3,
    ("cuda", "bfloat16"): 5e-2,
    ("cpu", "float32"): 1e-4,
    ("cpu", "bfloat16"): 5e-2,
}
DTYPE_NAMES = {"fp32": "float32", "float32": "float32", "bf16": "bfloat16", "bfloat16": "bfloat16"}


class VerifyError(RuntimeError):
    """verify cannot run (wrong device, missing package, bad arguments)."""


@dataclass
class Row:
    op: str
    shape: str
    dtype: str
    device: str
    rel_err: Optional[float]
    tol: float
    passed: bool
    note: str = ""
    seconds: float = 0.0


@dataclass
class Report:
    package: str
    device: str
    seed: int
    rows: List[Row] = field(default_factory=list)

    @property
    def failed(self) -> List[Row]:
        return [r for r in self.rows if not r.passed]

    def to_json(self) -> dict:
        return {
            "package": self.package, "device": self.device, "seed": self.seed,
            "passed": not self.failed, "n_rows": len(self.rows), "n_failed": len(self.failed),
            "n_grad_rows": sum(1 for r in self.rows if r.op.startswith("grad ")),
            "n_grad_failed": sum(1 for r in self.failed if r.op.startswith("grad ")),
            "rows": [_row_json(r) for r in self.rows],
        }


def _row_json(r: Row) -> dict:
    d = asdict(r)
    if d["rel_err"] is not None and not math.isfinite(d["rel_err"]):
        d["rel_err"] = "nan"  # JSON has no NaN
    return d


def _poison(device: str) -> None:
    """Fill freed device memory with NaN bytes (0xFF.. is NaN in fp32 and bf16)."""
    import torch

    if device != "cuda":
        return
    free, _ = torch.cuda.mem_get_info()
    n = min(int(free * 0.5), 1 << 30)
    blk = torch.empty(n, dtype=torch.uint8, device="cuda")
    blk.fill_(0xFF)
    del blk


# ------------------------------------------------------------------- model facts
def _nodes(ir: dict, kind: str) -> List[dict]:
    return [n for n in ir["nodes"] if n["kind"] == kind]


def _one(ir: dict, kind: str) -> Optional[dict]:
    ns = _nodes(ir, kind)
    return ns[0] if ns else None


def pkg_chunk(pkg, ir: dict) -> int:
    """The package's chunk size: a launch setting (_config.LAUNCH), not in the IR;
    packages generated before LaunchConfig kept it in the scan node; else 64."""
    import importlib

    try:
        return int(importlib.import_module(pkg.__name__ + "._config").LAUNCH.chunked.chunk_size)
    except (ImportError, AttributeError):
        scan = _one(ir, "SsdScan")
        return int(scan.get("chunkSize", 64)) if scan else 64


def shapes_for(ir: dict, which: str, Q: int = 64) -> List[tuple]:
    """(batch, seqlen) pairs: seqlen 1, one shorter than a chunk and not a
    multiple of it, the seed's 128, and one crossing a chunk boundary; `full`
    adds more multi-chunk lengths (cheap on a GPU, slow in the interpreter).
    With quick, run_verify checks the chunked fallback on the longest shape only.
    Q: the package's chunk size (pkg_chunk)."""
    quick = [(2, 1), (2, 37), (2, 128), (1, Q + 37)]
    if which == "quick":
        return quick
    return quick + [(2, Q + 5), (2, 4 * Q + 7), (1, 2 * Q)]


def _activation(node: dict) -> str:
    return "identity" if node["activation"] in ("identity", None) else "silu"


# ---------------------------------------------------------------------- checks
class Checker:
    def __init__(self, pkg, ir: dict, device: str, report: Report, on_row: Callable[[Row], None]):
        self.pkg, self.ir, self.device, self.report, self.on_row = pkg, ir, device, report, on_row

    def record(self, op, shape, dtype, kind, fn: Callable[[], Any], note=""):
        """fn returns (out, ref) or a list of (label, out, ref): one row per pair. `note` may be
        a callable, called after fn (a note that reports what fn saw)."""
        tol = GRAD_TOLERANCES[(self.device, dtype)] if kind == "grad" else TOLERANCES[(self.device, dtype)][kind]
        t0 = time.perf_counter()
        try:
            _poison(self.device)
            res = fn()
            if callable(note):
                note = note()
            pairs = [("", *res)] if isinstance(res, tuple) else res
            results = []
            for label, out, ref in pairs:
                err = rel_err(out, ref)
                ok = passes(err, tol)
                results.append((label, err, ok, note if math.isfinite(err) else "output has NaN/inf"))
        except Exception as e:  # noqa: BLE001 - a crash is a failed row with its reason
            results = [("", None, False, f"{type(e).__name__}: {e}".splitlines()[0][:300])]
        secs = round(time.perf_counter() - t0, 3)
        rows = []
        for label, err, ok, why in results:
            row = Row(op + (f" {label}" if label else ""), shape, dtype, self.device, err, tol, ok, why, secs)
            self.report.rows.append(row)
            self.on_row(row)
            rows.append(row)
        return rows

    # -- ops
    def conv(self, dtype, b, l):
        import torch

        node = _one(self.ir, "CausalConv1d")
        C, W = node["channels"], node["width"]
        dt_ = getattr(torch, dtype)

        def run():
            x = torch.randn(b, l, C, device=self.device, dtype=dt_)
            w = (torch.randn(C, W, device=self.device) / math.sqrt(W)).to(dt_)
            bias = torch.randn(C, device=self.device, dtype=dt_) if node["bias"] else None
            out = self.pkg.causal_conv1d(x, w, bias, activation=_activation(node))
            assert out.dtype == dt_, f"causal_conv1d returned {out.dtype}, expected {dt_}"
            return out, ref_causal_conv1d(x, w, bias, _activation(node))

        self.record("conv", f"B{b}-L{l}-C{C}-W{W}", dtype, "elementwise", run)

    def dt(self, dtype, b, l):
        import torch

        node = _one(self.ir, "DtTransform")
        H = node["nheads"]
        dt_ = getattr(torch, dtype)

        def run():
            raw = torch.randn(b, l, H, device=self.device, dtype=dt_)
            bias = (torch.randn(H, device=self.device) - 2.0) if node["bias"] else None
            out = self.pkg.dt_transform(raw, bias, softplus=node["softplus"], limit=_limit(node))
            assert out.dtype == torch.float32, f"dt_transform returned {out.dtype}, expected float32"
            return out, ref_dt_transform(raw, bias, node["softplus"], _limit(node))

        self.record("dt", f"B{b}-L{l}-H{H}", dtype, "elementwise", run)

    def norm(self, dtype, b, l):
        import torch

        node = _one(self.ir, "RMSNorm")
        D = node["features"]
        dt_ = getattr(torch, dtype)

        def run():
            y = torch.randn(b, l, D, device=self.device, dtype=dt_)
            z = torch.randn(b, l, D, device=self.device, dtype=dt_) if node.get("z") else None
            w = (1.0 + 0.5 * torch.randn(D, device=self.device)).to(dt_)
            gs = node["groupSize"]
            out = self.pkg.rmsnorm_gated(y, w, z, eps=node["eps"], group_size=gs,
                                         norm_before_gate=node["normBeforeGate"])
            assert out.dtype == dt_, f"rmsnorm_gated returned {out.dtype}, expected {dt_}"
            return out, ref_rmsnorm_gated(y, w, z, node["eps"], gs, node["normBeforeGate"])

        self.record("norm", f"B{b}-L{l}-D{D}-G{node['groupSize']}", dtype, "elementwise", run)

    def scan_impls(self) -> List[Optional[str]]:
        fn = self.pkg.mamba_chunk_scan_combined
        try:
            has_impl = "impl" in inspect.signature(fn).parameters
        except (TypeError, ValueError):
            has_impl = False
        if not has_impl:
            return [None]
        kdir = Path(self.pkg.__file__).parent / "kernels"
        impls = [i for i in ("fused", "chunked") if (kdir / f"ssd_{i}.py").is_file()]
        return impls or [None]

    def scan(self, dtype, b, l, impl, *, with_z=False, with_seq_idx=False, with_init=None):
        import torch

        node = _one(self.ir, "SsdScan")
        dtn = _one(self.ir, "DtTransform")
        dsk = _one(self.ir, "DSkip")
        h, p, g, n, Q = node["nheads"], node["headdim"], node["ngroups"], node["dState"], pkg_chunk(self.pkg, self.ir)
        dt_ = getattr(torch, dtype)
        dev = self.device
        init = node["learnableInitStates"] if with_init is None else with_init
        softplus = bool(dtn and dtn["softplus"])
        limit = _limit(dtn) if dtn else (0.0, math.inf)

        def run():
            x = torch.randn(b, l, h, p, device=dev, dtype=dt_)
            Bm = torch.randn(b, l, g, n, device=dev, dtype=dt_)
            Cm = torch.randn(b, l, g, n, device=dev, dtype=dt_)
            A = -torch.empty(h, device=dev).uniform_(1.0, 16.0)
            if softplus:
                # dt_raw + dt_bias ~ inverse softplus of log-uniform [1e-3, 0.1], plus noise
                dt0 = torch.exp(torch.empty(h, device=dev).uniform_(math.log(1e-3), math.log(0.1)))
                dt_bias = dt0 + torch.log(-torch.expm1(-dt0))
                dt = (0.5 * torch.randn(b, l, h, device=dev)).to(dt_)
            else:
                dt_bias = None
                dt = torch.empty(b, l, h, device=dev).uniform_(1e-3, 0.1).to(dt_)
            D = None
            if dsk is not None:
                D = torch.randn(h, p, device=dev) if dsk["perChannel"] else torch.randn(h, device=dev)
            z = torch.randn(b, l, h, p, device=dev, dtype=dt_) if with_z else None
            s0 = torch.randn(b, h, p, n, device=dev) * 0.5 if init else None
            seq_idx = None
            if with_seq_idx:
                # three packed sequences with boundaries inside and across chunks
                cut = sorted({max(1, l // 3), max(1, (2 * l) // 3 + 1)})
                ids = torch.zeros(l, dtype=torch.int32)
                for c in cut:
                    ids[c:] += 1
                seq_idx = ids.unsqueeze(0).expand(b, l).contiguous().to(dev)
            kw = dict(D=D, z=z, dt_bias=dt_bias, initial_states=s0, seq_idx=seq_idx,
                      dt_softplus=softplus, dt_limit=limit, return_final_states=True)
            if impl is not None:
                kw["impl"] = impl
            out, final = self.pkg.mamba_chunk_scan_combined(x, dt, A, Bm, Cm, Q, **kw)
            assert out.dtype == dt_, f"scan returned {out.dtype}, expected {dt_}"
            kw.pop("impl", None)
            ref_out, ref_final = ref_scan(x, dt, A, Bm, Cm, **kw)
            return [("out", out, ref_out), ("final", final, ref_final)]

        name = "scan" + (f"[{impl}]" if impl else "")
        flags = "".join([" +z" if with_z else "", " +seq_idx" if with_seq_idx else "", " +init" if init else ""])
        self.record(name + flags, f"B{b}-L{l}-H{h}-P{p}-G{g}-N{n}-Q{Q}", dtype, "dot", run)

    # -- the whole block
    def make_module(self, dtype):
        import torch

        cls = getattr(self.pkg, self.ir["className"])
        sig = inspect.signature(cls)
        norm = lambda s: s.replace("_", "").lower()  # noqa: E731
        cfg = {norm(k): v for k, v in (self.ir.get("config") or {}).items()}
        kwargs: Dict[str, Any] = {}
        for pname in sig.parameters:
            if norm(pname) in cfg and pname not in ("device", "dtype"):
                v = cfg[norm(pname)]
                if isinstance(v, list):
                    v = tuple(math.inf if x is None else x for x in v)
                kwargs[pname] = v
        dt_ = getattr(torch, dtype)
        if "device" in sig.parameters:
            kwargs["device"] = self.device
        if "dtype" in sig.parameters:
            kwargs["dtype"] = dt_
        m = cls(**kwargs).to(self.device)
        if "dtype" not in sig.parameters:
            m = m.to(dt_)
        # Move every parameter away from its init (D = 1, norm weight = 1, ...)
        # so each term of the block changes the output.
        with torch.no_grad():
            for name, prm in m.named_parameters():
                scale = max(prm.detach().float().abs().mean().item(), 0.1)
                prm.add_((0.3 * scale * torch.randn(prm.shape, device=prm.device)).to(prm.dtype))
        return m.eval()

    def block(self, dtype, b, l, *, with_seq_idx=False, seed_check=False):
        import torch

        dt_ = getattr(torch, dtype)
        features = _one(self.ir, "Input")["features"]

        def run():
            m = self.make_module(dtype)
            u = torch.randn(b, l, features, device=self.device, dtype=dt_)
            seq_idx = None
            kw = {}
            if with_seq_idx:
                ids = torch.zeros(l, dtype=torch.int32)
                ids[l // 2:] = 1
                seq_idx = ids.unsqueeze(0).expand(b, l).contiguous().to(self.device)
                kw["seq_idx"] = seq_idx
            with torch.no_grad():
                out = m(u, **kw)
            if tuple(out.shape) != (b, l, features):
                raise VerifyError(f"{self.ir['className']} returned shape {tuple(out.shape)} for input "
                                  f"{(b, l, features)}; expected {(b, l, features)}")
            sd = {k: v for k, v in m.state_dict().items()}
            return out, ref_block(self.ir, sd, u, seq_idx)

        op = "block" + (" +seq_idx" if with_seq_idx else "") + (" (seed check)" if seed_check else "")
        self.record(op, f"B{b}-L{l}-D{features}", dtype, "block", run,
                    note=f"{self.ir['className']} vs ref_block")


    # -- gradients
    def grad_scan(self, dtype, b, l):
        """Gradients of every input the model feeds the scan, through the
        package's autograd (mamba_chunk_scan_combined with requires_grad
        inputs), against torch autograd through the float64 ref_scan. A random
        cotangent on both out and the final state."""
        import torch

        node = _one(self.ir, "SsdScan")
        dtn = _one(self.ir, "DtTransform")
        dsk = _one(self.ir, "DSkip")
        h, p, g, n, Q = node["nheads"], node["headdim"], node["ngroups"], node["dState"], pkg_chunk(self.pkg, self.ir)
        dt_ = getattr(torch, dtype)
        dev = self.device
        init = bool(node["learnableInitStates"])
        with_z = _one(self.ir, "Gate") is not None
        softplus = bool(dtn and dtn["softplus"])
        has_bias = bool(dtn and dtn.get("bias", softplus))
        limit = _limit(dtn) if dtn else (0.0, math.inf)

        def run():
            ins: Dict[str, Any] = {
                "x": torch.randn(b, l, h, p, device=dev, dtype=dt_),
                "B": torch.randn(b, l, g, n, device=dev, dtype=dt_),
                "C": torch.randn(b, l, g, n, device=dev, dtype=dt_),
                "A": -torch.empty(h, device=dev).uniform_(1.0, 16.0),
            }
            if softplus:
                dt0 = torch.exp(torch.empty(h, device=dev).uniform_(math.log(1e-3), math.log(0.1)))
                ins["dt"] = (0.5 * torch.randn(b, l, h, device=dev)).to(dt_)
                if has_bias:
                    ins["dt_bias"] = dt0 + torch.log(-torch.expm1(-dt0))
            else:
                ins["dt"] = torch.empty(b, l, h, device=dev).uniform_(1e-3, 0.1).to(dt_)
            if dsk is not None:
                ins["D"] = torch.randn(h, p, device=dev) if dsk["perChannel"] else torch.randn(h, device=dev)
            if with_z:
                ins["z"] = torch.randn(b, l, h, p, device=dev, dtype=dt_)
            if init:
                ins["initial_states"] = torch.randn(b, h, p, n, device=dev) * 0.5
            leaves = {k: v.detach().clone().requires_grad_() for k, v in ins.items()}
            gout = torch.randn(b, l, h, p, device=dev, dtype=dt_)
            gfin = torch.randn(b, h, p, n, device=dev)

            def call(fn, t, **extra):
                kw = {k: t[k] for k in ("D", "z", "dt_bias", "initial_states") if k in t}
                return fn(t["x"], t["dt"], t["A"], t["B"], t["C"], dt_softplus=softplus, dt_limit=limit,
                          return_final_states=True, **kw, **extra)

            out, final = call(self.pkg.mamba_chunk_scan_combined, leaves, chunk_size=Q)
            names = list(leaves)
            got = torch.autograd.grad((out, final), [leaves[k] for k in names],
                                      (gout, gfin.to(final.dtype)), allow_unused=True)
            leaves64 = {k: v.detach().to(torch.float64).requires_grad_() for k, v in ins.items()}
            ref_out, ref_final = call(ref_scan, leaves64)
            ref = torch.autograd.grad((ref_out, ref_final), [leaves64[k] for k in names],
                                      (gout.to(torch.float64), gfin.to(torch.float64)))
            return [(k, torch.zeros_like(ins[k]) if gk is None else gk, rk)
                    for k, gk, rk in zip(names, got, ref)]

        self.record("grad scan", f"B{b}-L{l}-H{h}-P{p}-G{g}-N{n}-Q{Q}", dtype, "grad", run,
                    note="autograd vs ref_scan")

    def grad_block(self, dtype, b, l):
        """d(u) and d(every parameter) of the generated module (random perturbed
        weights, random u, random grad_out) against torch autograd through the
        float64 ref_block on the same weights."""
        import torch

        dt_ = getattr(torch, dtype)
        features = _one(self.ir, "Input")["features"]

        def run():
            m = self.make_module(dtype)
            u = torch.randn(b, l, features, device=self.device, dtype=dt_)
            gout = torch.randn(b, l, features, device=self.device, dtype=dt_)
            # away from the dt clamp's kink, decided by the float64 reference (dt_kink_margin)
            info.update(dt_kink_margin(self.ir, m.state_dict(), u, dtype))
            params = dict(m.named_parameters())
            for prm in params.values():
                prm.grad = None
            u_leaf = u.clone().requires_grad_()
            out = m(u_leaf)
            if not out.requires_grad:
                raise VerifyError(f"{self.ir['className']} output does not require grad: no backward to check")
            out.backward(gout)
            sd64 = {k: v.detach().to(torch.float64).requires_grad_(k in params)
                    for k, v in m.state_dict().items()}
            u64 = u.detach().to(torch.float64).requires_grad_()
            ref = ref_block(self.ir, sd64, u64)
            if not ref.requires_grad:
                raise VerifyError("ref_block's output does not depend on u through autograd: "
                                  "reference/graph.py must upcast with .to(float64), never detach")
            names = list(params)
            missing = [k for k in names if k not in sd64]
            if missing:
                raise VerifyError(f"parameters not in state_dict: {missing}")
            refs = torch.autograd.grad(ref, [u64] + [sd64[k] for k in names], gout.to(torch.float64),
                                       allow_unused=True)
            pairs = [("u", u_leaf.grad, refs[0])]
            for k, rk in zip(names, refs[1:]):
                gk = params[k].grad
                pairs.append((k, torch.zeros_like(params[k]) if gk is None else gk,
                              torch.zeros_like(sd64[k]) if rk is None else rk))
            return pairs

        info: Dict[str, Any] = {}

        def note() -> str:
            base = f"{self.ir['className']} autograd vs ref_block"
            if not info:
                return base
            cov = ", ".join(f"{info[k]} at {k[8:]}" for k in info if k.startswith("clamped_"))
            return (f"{base}; dt clamp: {cov} (u away from the bounds by {info['margin_ulps']} {dtype} ulps of "
                    f"in_proj's output: {info['tokens_redrawn']} tokens redrawn)")

        self.record("grad block", f"B{b}-L{l}-D{features}", dtype, "grad", run, note=note)


def grad_shapes(ir: dict, Q: int = 64) -> List[tuple]:
    """Small shapes for the gradient rows (the backward is the slow part in the
    interpreter): seqlen 1, and one not a multiple of the chunk that crosses a
    chunk boundary when the chunk is small (chunk + 5), capped at 69."""
    l2 = Q + 5 if Q + 5 <= 69 else 37
    return [(2, 1), (2, l2)]


# ------------------------------------------------------------------------ driver
def resolve_device(device: str, pkg_name: Optional[str] = None) -> str:
    """Pick the device and make TRITON_INTERPRET agree with it before import."""
    import torch

    from .pkgload import select_device

    if device == "auto":
        return select_device()
    if device == "cuda":
        if not torch.cuda.is_available():
            raise VerifyError("--device cuda but torch sees no GPU (torch.cuda.is_available() is False). "
                              "Use --device cpu (Triton interpreter) or check nvidia-smi / the torch build.")
        if os.environ.get("TRITON_INTERPRET") == "1":
            raise VerifyError("--device cuda but TRITON_INTERPRET=1 is set: unset it and run in a fresh process.")
        return "cuda"
    if device == "cpu":
        if os.environ.get("TRITON_INTERPRET") != "1":
            if pkg_name and pkg_name in sys.modules:
                raise VerifyError(f"--device cpu needs Triton's interpreter, but {pkg_name} was already imported "
                                  "compiled for the GPU in this process. Run verify --device cpu in a fresh process "
                                  "(or set TRITON_INTERPRET=1 before starting it).")
            os.environ["TRITON_INTERPRET"] = "1"
        return "cpu"
    raise VerifyError(f"--device {device!r}: use auto, cuda or cpu")


def run_verify(
    pkg_dir: str,
    device: str = "auto",
    dtypes: Optional[List[str]] = None,
    shapes: str = "auto",
    seed: Optional[int] = None,
    ops: Optional[List[str]] = None,
    on_row: Optional[Callable[[Row], None]] = None,
    grads: bool = True,
) -> Report:
    """Run every check; `on_row` sees each row as it finishes (the worker streams them).

    ops: any of conv, dt, scan, norm, block, grads (default: all; `grads` =
    the gradient rows, 'grad scan' and 'grad block'). grads=False drops the
    gradient rows from the default set (--no-grads)."""
    pkg_dir = str(pkg_dir)
    if not Path(pkg_dir).is_dir():
        raise VerifyError(f"{pkg_dir} is not a directory. Run `pnpm gen` first, or pass kernels-out/<name>.")
    manifest = read_manifest(pkg_dir)
    dev = resolve_device(device, manifest.get("name"))  # before the import: TRITON_INTERPRET
    import torch

    pkg = load_generated(pkg_dir)
    ir = load_ir(pkg_dir)
    if dtypes is None:
        dtypes = ["fp32", "bf16"] if dev == "cuda" else ["fp32"]
    dtypes = [DTYPE_NAMES.get(d.strip(), d.strip()) for d in dtypes if d.strip()]
    for d in dtypes:
        if (dev, d) not in TOLERANCES:
            raise VerifyError(f"dtype {d!r} on {dev}: no tolerance for it. Use one of fp32, bf16.")
    if shapes == "auto":
        shapes = "full" if dev == "cuda" else "quick"
    if shapes not in ("quick", "full"):
        raise VerifyError(f"--shapes {shapes!r}: use quick, full or auto")
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little")
    torch.manual_seed(seed)
    report = Report(package=manifest.get("name", pkg_dir), device=dev, seed=seed)
    chk = Checker(pkg, ir, dev, report, on_row or (lambda r: None))
    want = set(ops or ["conv", "dt", "scan", "norm", "block"] + (["grads"] if grads else []))
    if not grads:
        want.discard("grads")
    kinds = {n["kind"] for n in ir["nodes"]}
    from .verify_vision import is_vision, run_vision

    if is_vision(ir):  # an image input and a multi-order scan: verify_vision.py's rows
        run_vision(chk, dtypes, want, shapes)
        return report
    bl = shapes_for(ir, shapes, pkg_chunk(pkg, ir))
    features = _one(ir, "Input")["features"] if "Input" in kinds else None
    longest = max(bl, key=lambda s: (s[1], s[0]))
    for dtype in dtypes:
        for (b, l) in bl:
            if "conv" in want and "CausalConv1d" in kinds and hasattr(pkg, "causal_conv1d"):
                chk.conv(dtype, b, l)
            if "dt" in want and "DtTransform" in kinds and hasattr(pkg, "dt_transform"):
                chk.dt(dtype, b, l)
            if "scan" in want and "SsdScan" in kinds:
                for impl in chk.scan_impls():
                    # quick: the chunked fallback (impl='chunked') on the longest shape only (below too);
                    # in the interpreter each of its calls costs ~10 s whatever the length (chunk-long
                    # tiles); the kernel library's tests run it at every length, seqlen 1 included
                    if impl != "chunked" or shapes != "quick" or (b, l) == longest:
                        chk.scan(dtype, b, l, impl)
            if "norm" in want and "RMSNorm" in kinds and hasattr(pkg, "rmsnorm_gated"):
                chk.norm(dtype, b, l)
            if "block" in want:
                seed_check = ir["className"] == "Mamba2Simple" and features == 256 and (b, l) == (2, 128)
                chk.block(dtype, b, l, seed_check=seed_check)
        # the public API's other flags, on the longest shape (it crosses chunks)
        b, l = longest
        if "scan" in want and "SsdScan" in kinds:
            for impl in chk.scan_impls():
                chk.scan(dtype, b, l, impl, with_z=True)
                chk.scan(dtype, b, l, impl, with_seq_idx=True)
                chk.scan(dtype, b, l, impl, with_init=True)
        if "block" in want:
            chk.block(dtype, b, l, with_seq_idx=True)
        if "grads" in want:
            for (gb, gl) in grad_shapes(ir, pkg_chunk(pkg, ir)):
                if "SsdScan" in kinds:
                    chk.grad_scan(dtype, gb, gl)
                if features is not None:
                    chk.grad_block(dtype, gb, gl)
    return report


def op_verify(args: dict, emit) -> dict:
    """Worker op: args {pkg_dir, device?, dtypes?, shapes?, seed?, ops?}; streams rows as progress."""
    dtypes = args.get("dtypes")
    if isinstance(dtypes, str):
        dtypes = dtypes.split(",")
    report = run_verify(
        args["pkg_dir"], device=args.get("device", "auto"), dtypes=dtypes, shapes=args.get("shapes", "auto"),
        seed=args.get("seed"), ops=args.get("ops"), grads=args.get("grads", True),
        on_row=lambda r: emit({"row": _row_json(r)}),
    )
    return report.to_json()


def format_row(r: Row) -> str:
    err = "error" if r.rel_err is None else ("nan" if not math.isfinite(r.rel_err) else f"{r.rel_err:.2e}")
    mark = "PASS" if r.passed else "FAIL"
    return f"{r.op:<34} {r.shape:<32} {r.dtype:<9} {err:>9} {r.tol:>8.0e}  {mark}  {r.note if not r.passed else ''}"


HEADER = f"{'op':<34} {'shape':<32} {'dtype':<9} {'rel err':>9} {'tol':>8}  pass"


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mamba2_runner.verify", description=__doc__.split("\n\n")[0])
    ap.add_argument("pkg_dir", help="kernels-out/<name>")
    ap.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"])
    ap.add_argument("--dtypes", default=None, help="comma list of fp32,bf16 (default: both on cuda, fp32 on cpu)")
    ap.add_argument("--shapes", default="auto", choices=["auto", "quick", "full"])
    ap.add_argument("--ops", default=None, help="comma list of conv,dt,scan,norm,block,grads (default all)")
    ap.add_argument("--grads", action=argparse.BooleanOptionalAction, default=True,
                    help="gradient rows (grad scan / grad block) against autograd through the float64 "
                         "reference (default on; --no-grads skips them)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--json", default=None, help="write the rows to this file")
    a = ap.parse_args(argv)
    print(HEADER, flush=True)
    try:
        report = run_verify(
            a.pkg_dir, a.device, a.dtypes.split(",") if a.dtypes else None, a.shapes, a.seed,
            a.ops.split(",") if a.ops else None, on_row=lambda r: print(format_row(r), flush=True),
            grads=a.grads,
        )
    except VerifyError as e:
        print(f"verify: {e}", file=sys.stderr)
        return 2
    n, nf = len(report.rows), len(report.failed)
    gr = [r for r in report.rows if r.op.startswith("grad ")]
    gf = sum(1 for r in gr if not r.passed)
    print(f"\n{report.package} on {report.device}: {n - nf}/{n} passed, of which gradients "
          f"{len(gr) - gf}/{len(gr)} (seed {report.seed}; replay with --seed {report.seed})")
    if a.json:
        Path(a.json).write_text(json.dumps(report.to_json(), indent=2, allow_nan=False, default=str))
    return 1 if nf or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
