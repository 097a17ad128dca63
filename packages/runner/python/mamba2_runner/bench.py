"""Benchmark the generated SSD scan and block against mamba_ssm and a naive PyTorch SSD.

    python -m mamba2_runner.bench [--pkg kernels-out/mamba2_simple] [--configs all|tiny|NAME,...]
        [--mode fwd|fwdbwd|both] [--providers fused,chunked,torch,mamba_ssm]
        [--block-pkgs 1536=kernels-out/bench_block_1536,...]
        [--chunk-size Q] [--out bench/results/<date>-<gpu>.json] [--check-only]

For every (config, provider): check on fresh random inputs against the float64
reference (mamba2_runner.reference), on a slice for big shapes; a wrong or
failing provider is recorded and never timed. Then time with
triton.testing.do_bench (median), rotating input sets, and for the seed shape
also under CUDA-graph replay (after all the plain timings). The JSON is rewritten after every config.

Providers. SSD configs: `fused` / `chunked` (the generated
mamba_chunk_scan_combined, impl=...), `torch` (naive chunked SSD below, eager,
fp32 math), `mamba_ssm` (the baseline from .baseline/, chunk 256). Block
configs: `generated` (the generated nn.Module; runs whenever fused, chunked or
generated is asked for) and `mamba_ssm` (Mamba2Simple, non-fused path, same
weights).

--mode fwdbwd (configs NAME-fb; --mode both runs the forward table, then
these): the timed call is the forward on inputs that require grad followed by
torch.autograd.grad(out, inputs, grad_out) with a fixed random grad_out (no
.grad accumulation, the same for every provider). SSD providers: fused, torch,
mamba_ssm (chunked is left out: it shares fused's backward); the gradients of
x, dt, A, B, C, D, dt_bias (and z) are checked. Blocks: the gradients of u and
of every parameter. The check runs before timing at the config's (h, p, n, g,
chunk) with batch 1 and seqlen min(L, 512) (`check_shape`), against torch
autograd through the float64 references (ref_scan, ref_block).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import importlib
import itertools
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Callable, Dict, List, Optional

from . import bench_configs as bc
from .checks import passes, rel_err, rel_errs, worst
from .bench_configs import BlockConfig, Config, SsdConfig
from .pkgload import load_generated, load_ir, select_device

ROOT = Path(__file__).resolve().parents[4]
BASELINE_DIR = ROOT / ".baseline"
SSD_PROVIDERS = ("fused", "chunked", "torch", "mamba_ssm")
BASELINE_CHUNK = 256
L2_BYTES = 50 * 2**20
# relative-error tolerances on a bf16 output (see .library METHOD: bf16 operands 1e-3..1e-2)
TOL_SSD = 1e-2
TOL_BLOCK = 2e-2
# above this many (batch * seqlen * heads) elements the reference runs on a slice
FULL_CHECK_MAX = 2**16
# fwdbwd: relative error per gradient vs torch autograd through the float64
# reference. SSD 3e-2: the bf16 tolerance of the generated backward's own
# tests (tests/test_grad.py, cuda bf16): bf16 x/B/C/z and bf16 dx/dB/dC/dz
# outputs (2^-9 rounding each), tf32/bf16 dots, and per-head sums (dA, dD,
# ddt_bias) over b*l*p terms. Block 5e-2: the block's forward check is already
# 2x the SSD's (bf16 activations rounded between ops); the backward carries
# those roundings plus bf16 rounding of the gradients between ops.
TOL_GRAD_SSD = 3e-2
TOL_GRAD_BLOCK = 5e-2
# fwdbwd check shape: batch 1, seqlen at most this (the float64 reference
# steps one position at a time and autograd keeps every state)
GRAD_CHECK_MAX_L = 512
SSD_GRAD_NAMES = ("x", "dt", "A", "B", "C", "D", "dt_bias")

Progress = Callable[[dict], None]


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- baseline loader

class BaselineMissing(ImportError):
    """mamba_ssm sources are not in .baseline/ (run scripts/fetch-baseline.sh)."""


def _stub_package(name: str, path: Path) -> ModuleType:
    mod = ModuleType(name)
    mod.__path__ = [str(path)]  # a package whose __init__ never runs
    mod.__file__ = None
    mod.__package__ = name
    sys.modules[name] = mod
    return mod


def _ensure_packaging() -> None:
    """mamba_ssm compares Triton versions with packaging.version; supply a minimal
    stand-in if the machine lacks `packaging`."""
    try:
        import packaging.version  # noqa: F401
        return
    except ImportError:
        pass

    def parse(v: str):
        return tuple(int(x) for x in re.findall(r"\d+", str(v).split("+")[0])[:3])

    pkg = ModuleType("packaging")
    ver = ModuleType("packaging.version")
    ver.parse = parse
    pkg.version = ver
    pkg.__path__ = []
    sys.modules["packaging"] = pkg
    sys.modules["packaging.version"] = ver


def load_mamba_ssm(root: Path | str = BASELINE_DIR) -> Dict[str, object]:
    """Import mamba_ssm's Triton SSD, gated RMSNorm and Mamba2Simple from the
    extracted sources without its CUDA extensions.

    The package __init__ files import selective_scan_cuda / causal_conv1d; we
    register empty parent packages whose __path__ points at the extracted
    folders, and map the CUDA extensions to None in sys.modules so their
    imports raise ImportError (mamba_ssm then falls back to its pure paths:
    nn.Conv1d for the conv, Triton for everything else).
    """
    root = Path(root)
    src = root / "mamba_ssm"
    if not (src / "ops" / "triton" / "ssd_combined.py").is_file():
        raise BaselineMissing(f"no mamba_ssm sources under {root}. Run scripts/fetch-baseline.sh.")
    if "mamba_ssm.ops.triton.ssd_combined" not in sys.modules:
        _ensure_packaging()
        for ext in ("causal_conv1d", "causal_conv1d_cuda", "selective_scan_cuda", "selective_scan",
                    "mamba_ssm.ops.selective_scan_interface"):
            sys.modules.setdefault(ext, None)  # `import ext` -> ImportError
        for name, sub in [("mamba_ssm", ""), ("mamba_ssm.ops", "ops"), ("mamba_ssm.ops.triton", "ops/triton"),
                          ("mamba_ssm.utils", "utils"), ("mamba_ssm.modules", "modules")]:
            existing = sys.modules.get(name)
            if existing is None or getattr(existing, "__file__", None) is not None:
                _stub_package(name, src / sub if sub else src)
    ssd = importlib.import_module("mamba_ssm.ops.triton.ssd_combined")
    norm = importlib.import_module("mamba_ssm.ops.triton.layernorm_gated")
    simple = importlib.import_module("mamba_ssm.modules.mamba2_simple")
    info = {}
    meta = src / "BASELINE.json"
    if meta.is_file():
        info = json.loads(meta.read_text())
    return {
        "mamba_chunk_scan_combined": ssd.mamba_chunk_scan_combined,
        "layernorm_gated": norm,
        "Mamba2Simple": simple.Mamba2Simple,
        "info": info,
    }


# ---------------------------------------------------------------- naive PyTorch SSD

def torch_ssd(x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None,
              dt_softplus=False, dt_limit=(0.0, math.inf), return_final_states=False):
    """The chunked SSD in plain eager PyTorch (fp32 math), from shared/MAMBA2.md.
    x: [b, l, h, p], dt: [b, l, h], A: [h], B, C: [b, l, g, n], D: [h] or [h, p],
    z: [b, l, h, p], initial_states: [b, h, p, n]. Returns out (dtype of x)
    [, final_states fp32 [b, h, p, n]]."""
    import torch
    import torch.nn.functional as F

    f32 = torch.float32
    b, l, h, p = x.shape
    g, n = B.shape[2], B.shape[3]
    q = chunk_size
    dt = dt.to(f32)
    if dt_bias is not None:
        dt = dt + dt_bias.to(f32)
    if dt_softplus:
        dt = torch.where(dt > 20.0, dt, torch.log1p(torch.exp(dt)))
    dt = dt.clamp(dt_limit[0], dt_limit[1])

    pad = (-l) % q  # padded steps have dt = 0: no decay, no input
    nc = (l + pad) // q
    X = F.pad(x.to(f32), (0, 0, 0, 0, 0, pad)).view(b, nc, q, h, p)
    DT = F.pad(dt, (0, 0, 0, pad)).view(b, nc, q, h)
    Bh = F.pad(B.to(f32).repeat_interleave(h // g, dim=2), (0, 0, 0, 0, 0, pad)).view(b, nc, q, h, n)
    Ch = F.pad(C.to(f32).repeat_interleave(h // g, dim=2), (0, 0, 0, 0, 0, pad)).view(b, nc, q, h, n)

    cs = torch.cumsum(DT * A.to(f32), dim=2)  # [b, c, q, h]
    causal = torch.ones(q, q, dtype=torch.bool, device=x.device).tril()
    seg = (cs[:, :, :, None, :] - cs[:, :, None, :, :]).masked_fill(~causal[:, :, None], -math.inf)
    Xdt = X * DT[..., None]
    scores = torch.einsum("bcihn,bcjhn->bcijh", Ch, Bh) * torch.exp(seg)
    Y = torch.einsum("bcijh,bcjhp->bcihp", scores, Xdt)

    decay_to_end = torch.exp(cs[:, :, -1:, :] - cs)  # [b, c, q, h]
    chunk_states = torch.einsum("bcjhn,bcjhp->bchpn", Bh, Xdt * decay_to_end[..., None])
    chunk_decay = torch.exp(cs[:, :, -1, :])  # [b, c, h]
    S = initial_states.to(f32) if initial_states is not None else x.new_zeros(b, h, p, n, dtype=f32)
    states_in = []
    for c in range(nc):
        states_in.append(S)
        S = chunk_decay[:, c, :, None, None] * S + chunk_states[:, c]
    S_in = torch.stack(states_in, dim=1)  # [b, c, h, p, n]
    Y = Y + torch.einsum("bcihn,bchpn->bcihp", Ch, S_in) * torch.exp(cs)[..., None]

    y = Y.reshape(b, nc * q, h, p)[:, :l]
    if D is not None:
        Df = D.to(f32)
        y = y + x.to(f32) * (Df[:, None] if Df.dim() == 1 else Df)
    if z is not None:
        y = y * F.silu(z.to(f32))
    out = y.to(x.dtype)
    return (out, S) if return_final_states else out


# ---------------------------------------------------------------- inputs and checks

def make_ssd_inputs(cfg: SsdConfig, device: str) -> dict:
    """Fresh random inputs (never zeros): dt_bias is the inverse softplus of a
    log-uniform dt in [1e-3, 0.1] as Mamba2 initialises it; A in [-16, -1]."""
    import torch

    b, l, h, p, n, g = cfg.batch, cfg.seqlen, cfg.nheads, cfg.headdim, cfg.dstate, cfg.ngroups
    bf16, f32 = torch.bfloat16, torch.float32
    dt0 = torch.exp(torch.rand(h, device=device) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
    return {
        "x": torch.randn(b, l, h, p, device=device, dtype=bf16),
        "dt": torch.randn(b, l, h, device=device, dtype=f32) * 0.5,
        "A": -torch.empty(h, device=device, dtype=f32).uniform_(1.0, 16.0),
        "B": torch.randn(b, l, g, n, device=device, dtype=bf16),
        "C": torch.randn(b, l, g, n, device=device, dtype=bf16),
        "D": torch.randn(h, device=device, dtype=f32),
        "z": torch.randn(b, l, h, p, device=device, dtype=bf16) if cfg.has_z else None,
        "dt_bias": dt0 + torch.log(-torch.expm1(-dt0)),
    }


def ssd_input_bytes(inp: dict) -> int:
    return sum(t.numel() * t.element_size() for t in inp.values() if t is not None)


def check_slices(cfg: SsdConfig):
    """(batch rows, heads, groups) to compare. Small shapes: everything. Big: first
    and last batch row, first and last group, first and last head of each of those
    groups (the sliced problem keeps the head -> group mapping)."""
    b, h, g = cfg.batch, cfg.nheads, cfg.ngroups
    if b * cfg.seqlen * h <= FULL_CHECK_MAX:
        return list(range(b)), list(range(h)), list(range(g))
    hpg = h // g
    groups = sorted({0, g - 1})
    within = sorted({0, hpg - 1})
    heads = [gi * hpg + j for gi in groups for j in within]
    return sorted({0, b - 1}), heads, groups


def ssd_reference(cfg: SsdConfig, inp: dict):
    """float64 ref_scan on the check slice (on the inputs' device)."""
    import torch

    from .reference.scan import ref_scan

    rows, heads, groups = check_slices(cfg)
    f64 = torch.float64
    ri = torch.tensor(rows, device=inp["x"].device)
    hi = torch.tensor(heads, device=inp["x"].device)
    gi = torch.tensor(groups, device=inp["x"].device)
    sl = lambda t, dim, idx: t.index_select(dim, idx)  # noqa: E731
    x = sl(sl(inp["x"], 0, ri), 2, hi).to(f64)
    z = sl(sl(inp["z"], 0, ri), 2, hi).to(f64) if inp["z"] is not None else None
    ref = ref_scan(
        x,
        sl(sl(inp["dt"], 0, ri), 2, hi).to(f64),
        sl(inp["A"], 0, hi).to(f64),
        sl(sl(inp["B"], 0, ri), 2, gi).to(f64),
        sl(sl(inp["C"], 0, ri), 2, gi).to(f64),
        D=sl(inp["D"], 0, hi).to(f64),
        z=z,
        dt_bias=sl(inp["dt_bias"], 0, hi).to(f64),
        dt_softplus=True,
    )
    return ref, (ri, hi)


# ---------------------------------------------------------------- gradient checks (fwdbwd)

def ssd_grad_names(cfg: SsdConfig) -> tuple:
    return SSD_GRAD_NAMES + (("z",) if cfg.has_z else ())


def check_config(cfg: Config) -> Config:
    """The fwdbwd check shape: the config at batch 1 and seqlen min(L, GRAD_CHECK_MAX_L)."""
    return dataclasses.replace(cfg, batch=1, seqlen=min(cfg.seqlen, GRAD_CHECK_MAX_L))


def check_shape(cfg: Config) -> dict:
    c = check_config(cfg)
    if isinstance(c, SsdConfig):
        return {"batch": c.batch, "seqlen": c.seqlen, "nheads": c.nheads, "headdim": c.headdim,
                "dstate": c.dstate, "ngroups": c.ngroups, "has_z": c.has_z}
    return {"batch": c.batch, "seqlen": c.seqlen}


def make_ssd_fb_inputs(cfg: SsdConfig, device: str) -> dict:
    """make_ssd_inputs with the differentiable ones requiring grad, plus a
    random bf16 grad_out (drawn once; the timed call reuses it)."""
    import torch

    inp = make_ssd_inputs(cfg, device)
    for k in ssd_grad_names(cfg):
        inp[k].requires_grad_()
    inp["grad_out"] = torch.randn_like(inp["x"], requires_grad=False)
    return inp


def fwdbwd_fn(fwd: Callable[[dict], object], names) -> Callable[[dict], dict]:
    """fn(i) = forward, then d(out . grad_out)/d(i[name]) for each name via
    torch.autograd.grad (nothing accumulates into .grad)."""
    import torch

    names = tuple(names)

    def fn(i, _fwd=fwd, _names=names):
        out = _fwd(i)
        grads = torch.autograd.grad(out, [i[k] for k in _names], i["grad_out"], allow_unused=True)
        return dict(zip(_names, grads))
    return fn


def ssd_reference_grads(inp: dict, names) -> dict:
    """torch autograd through the float64 ref_scan, the same cotangent grad_out."""
    import torch

    from .reference.scan import ref_scan

    f64 = torch.float64
    leaf = {k: (None if v is None else v.detach().to(f64).requires_grad_(k in names))
            for k, v in inp.items() if k != "grad_out"}
    ref = ref_scan(leaf["x"], leaf["dt"], leaf["A"], leaf["B"], leaf["C"], D=leaf["D"], z=leaf["z"],
                   dt_bias=leaf["dt_bias"], dt_softplus=True)
    grads = torch.autograd.grad(ref, [leaf[k] for k in names], inp["grad_out"].to(f64))
    return dict(zip(names, grads))


grad_errors = rel_errs  # per-gradient rel_err, NaN for a missing or misshapen one


def judge_grads(r: dict, errs: Dict[str, float], tol: float) -> bool:
    """Record errs on provider row r (grad_errs, err = the worst, wrong_grads)
    and return whether every gradient is within tol."""
    r["grad_errs"] = errs
    bad = [k for k, e in errs.items() if not passes(e, tol)]
    r["err"] = worst(errs)
    r["tol"] = tol
    if bad:
        r["wrong_grads"] = bad
    return not bad


def _all_finite(grads: Dict[str, object]) -> bool:
    import torch

    return all(g is not None and bool(torch.isfinite(g).all()) for g in grads.values())


def block_reference_grads(ir: dict, sd: dict, param_names, u, grad_out) -> dict:
    """torch autograd through ref_block in float64: {'u': du, name: dparam}."""
    import torch

    from .reference.graph import ref_block

    f64 = torch.float64
    sd64 = {k: v.detach().to(f64).requires_grad_(k in param_names) for k, v in sd.items()}
    u64 = u.detach().to(f64).requires_grad_()
    ref = ref_block(ir, sd64, u64)
    if not ref.requires_grad:
        raise RuntimeError("ref_block's output does not depend on u through autograd: "
                           "reference/graph.py must upcast with .to(float64), never detach")
    names = list(param_names)
    grads = torch.autograd.grad(ref, [u64] + [sd64[n] for n in names], grad_out.to(f64), allow_unused=True)
    out = {"u": grads[0]}
    for n, g in zip(names, grads[1:]):
        out[n] = g if g is not None else torch.zeros_like(sd64[n])
    return out


# ---------------------------------------------------------------- providers

class Skip(Exception):
    """A provider that cannot run here (the reason is recorded)."""


def ssd_provider(name: str, ctx: "Ctx", cfg: SsdConfig) -> tuple[Callable[[dict], object], int]:
    """Returns (fn(inputs) -> out, chunk size)."""
    if name in ("fused", "chunked"):
        if ctx.pkg is None:
            raise Skip(ctx.pkg_error or "no generated package")
        q = ctx.chunk_size or cfg.chunk or ctx.pkg_chunk
        op = ctx.pkg.mamba_chunk_scan_combined

        def fn(i, _op=op, _q=q, _impl=name):
            return _op(i["x"], i["dt"], i["A"], i["B"], i["C"], _q, D=i["D"], z=i["z"],
                       dt_bias=i["dt_bias"], dt_softplus=True, impl=_impl)
        return fn, q
    if name == "torch":
        q = ctx.chunk_size or cfg.chunk or BASELINE_CHUNK

        def fn(i, _q=q):
            return torch_ssd(i["x"], i["dt"], i["A"], i["B"], i["C"], _q, D=i["D"], z=i["z"],
                             dt_bias=i["dt_bias"], dt_softplus=True)
        return fn, q
    if name == "mamba_ssm":
        base = ctx.baseline()
        op = base["mamba_chunk_scan_combined"]

        def fn(i, _op=op):
            return _op(i["x"], i["dt"], i["A"], i["B"], i["C"], BASELINE_CHUNK, D=i["D"], z=i["z"],
                       dt_bias=i["dt_bias"], dt_softplus=True)
        return fn, BASELINE_CHUNK
    raise KeyError(f"unknown provider {name!r} (known: {', '.join(SSD_PROVIDERS)})")


class Ctx:
    def __init__(self, args, device: str):
        self.args = args
        self.device = device
        self.chunk_size: Optional[int] = args.chunk_size
        self.pkg_dir = _resolve_path(args.pkg)
        self.pkg = None
        self.pkg_error: Optional[str] = None
        self.pkg_chunk = None
        try:
            self.pkg = load_generated(self.pkg_dir)
            self.pkg_chunk = importlib.import_module(self.pkg.__name__ + "._config").CHUNK_SIZE
        except Exception as e:  # recorded per provider as skipped
            self.pkg_error = f"cannot load generated package {self.pkg_dir}: {type(e).__name__}: {e}"
        self._baseline = None
        self._baseline_error: Optional[str] = None
        # (record, fn, inputs): CUDA-graph timings run after every plain timing,
        # so a capture that goes wrong cannot spoil the other configs
        self.graph_jobs: List[tuple] = []

    def baseline(self):
        if self.device != "cuda":
            raise Skip("mamba_ssm's kernels need CUDA")
        if self._baseline is None and self._baseline_error is None:
            try:
                self._baseline = load_mamba_ssm(self.args.baseline)
            except Exception as e:
                self._baseline_error = f"mamba_ssm not importable: {type(e).__name__}: {e}"
        if self._baseline is None:
            raise Skip(self._baseline_error)
        return self._baseline


def _resolve_path(p: str) -> Path:
    path = Path(p)
    if path.is_absolute() or path.exists():
        return path.resolve()
    return (ROOT / path).resolve()


# ---------------------------------------------------------------- timing

def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def time_fn(fn: Callable[[dict], object], inputs: List[dict], warmup: int, rep: int) -> float:
    import triton.testing

    it = itertools.cycle(inputs)
    return float(triton.testing.do_bench(lambda: fn(next(it)), warmup=warmup, rep=rep, return_mode="median"))


def time_graph(fn: Callable[[dict], object], inp: dict, rep: int) -> float:
    import triton.testing

    return float(triton.testing.do_bench_cudagraph(lambda: fn(inp), rep=rep, return_mode="median"))


def n_input_sets(nbytes: int) -> int:
    """Enough distinct input sets that one cycle overflows L2 (at most 8)."""
    return max(1, min(8, math.ceil(2 * L2_BYTES / max(nbytes, 1))))


# ---------------------------------------------------------------- one config

def run_ssd_config(cfg: SsdConfig, ctx: Ctx, providers: List[str], emit: Progress) -> dict:
    import torch

    rec = {"config": cfg.to_json(), "floor": bc.ssd_floor(cfg), "providers": {}}
    for prov in providers:
        r: dict = {"status": None}
        rec["providers"][prov] = r
        emit({"stage": "check", "config": cfg.name, "provider": prov})
        try:
            fn, q = ssd_provider(prov, ctx, cfg)
            r["chunk_size"] = q
            inp = make_ssd_inputs(cfg, ctx.device)
            with torch.no_grad():
                out = fn(inp)
                _sync(ctx.device)
                finite = bool(torch.isfinite(out).all())
                ref, (ri, hi) = ssd_reference(cfg, inp)
                got = out.index_select(0, ri).index_select(2, hi)
            r["check_slice"] = {"batch_rows": ri.tolist(), "heads": hi.tolist(), "full": tuple(out.shape) == tuple(got.shape)}
            r["err"] = rel_err(got, ref)
            r["tol"] = TOL_SSD
            r["all_finite"] = finite
            if not finite or not passes(r["err"], TOL_SSD):
                r["status"] = "wrong"
                continue
            del out, ref, got
            r["status"] = "ok"
            if ctx.args.check_only:
                continue
            emit({"stage": "time", "config": cfg.name, "provider": prov})
            sets = [inp] + [make_ssd_inputs(cfg, ctx.device) for _ in range(n_input_sets(ssd_input_bytes(inp)) - 1)]
            r["input_sets"] = len(sets)
            with torch.no_grad():
                r["median_ms"] = time_fn(fn, sets, ctx.args.warmup, ctx.args.rep)
                if cfg.batch * cfg.seqlen <= bc.GRAPH_MAX_TOKENS and not ctx.args.no_graph:
                    ctx.graph_jobs.append((r, fn, inp))
            del sets
        except Skip as e:
            r["status"], r["reason"] = "skipped", str(e)
        except Exception as e:
            r["status"], r["error"] = "error", f"{type(e).__name__}: {e}"
            r["traceback"] = traceback.format_exc(limit=8)
            _log(r["traceback"])
        finally:
            if ctx.device == "cuda":
                torch.cuda.empty_cache()
    return rec


FB_SSD_LEFT_OUT = ("chunked",)  # shares fused's backward: not benchmarked in fwdbwd


def grad_tol(ctx: "Ctx", default: float) -> float:
    return ctx.args.grad_tol if getattr(ctx.args, "grad_tol", None) else default


def run_ssd_fb_config(cfg: SsdConfig, ctx: Ctx, providers: List[str], emit: Progress) -> dict:
    """Forward+backward of one SSD config: gradient check at check_shape, then time."""
    import torch

    names = ssd_grad_names(cfg)
    shape = check_shape(cfg)
    rec = {"config": cfg.to_json(), "floor": bc.ssd_fb_floor(cfg), "check_shape": shape, "providers": {}}
    tol = grad_tol(ctx, TOL_GRAD_SSD)
    check = None  # (inputs, reference gradients) at the check shape, shared by the providers
    for prov in providers:
        if prov in FB_SSD_LEFT_OUT:
            continue
        r: dict = {"status": None}
        rec["providers"][prov] = r
        emit({"stage": "check", "config": cfg.name, "provider": prov})
        try:
            fwd, q = ssd_provider(prov, ctx, cfg)
            fn = fwdbwd_fn(fwd, names)
            r["chunk_size"] = q
            r["check_shape"] = shape
            if check is None:
                cinp = make_ssd_fb_inputs(check_config(cfg), ctx.device)
                check = (cinp, ssd_reference_grads(cinp, names))
            if not _grads_right(r, fn, *check, tol, ctx):
                continue
            if ctx.args.check_only:
                continue
            emit({"stage": "time", "config": cfg.name, "provider": prov})
            first = make_ssd_fb_inputs(cfg, ctx.device)
            sets = [first] + [make_ssd_fb_inputs(cfg, ctx.device)
                              for _ in range(n_input_sets(ssd_input_bytes(first)) - 1)]
            _time_if_finite(r, fn, sets, ctx)
            del sets, first
        except Skip as e:
            r["status"], r["reason"] = "skipped", str(e)
        except Exception as e:
            r["status"], r["error"] = "error", f"{type(e).__name__}: {e}"
            r["traceback"] = traceback.format_exc(limit=8)
            _log(r["traceback"])
        finally:
            if ctx.device == "cuda":
                torch.cuda.empty_cache()
    return rec


def _grads_right(r: dict, fn, inputs: dict, ref: dict, tol: float, ctx: "Ctx") -> bool:
    """forward+backward rows: every gradient of `fn` at the check inputs
    against the float64 reference gradients; sets the row's status ("ok" or
    "wrong", never timed) and returns whether it may be timed."""
    got = fn(inputs)
    _sync(ctx.device)
    r["all_finite"] = _all_finite(got)
    ok = judge_grads(r, grad_errors(got, ref), tol)
    del got
    r["status"] = "ok" if ok and r["all_finite"] else "wrong"
    return r["status"] == "ok"


def _time_if_finite(r: dict, fn, sets: list, ctx: "Ctx") -> None:
    """forward+backward rows: one call at the full shape first (every output
    and gradient element must be finite, else the row is wrong and not timed),
    then the do_bench median over the input sets."""
    r["input_sets"] = len(sets)
    full = fn(sets[0])
    _sync(ctx.device)
    r["full_shape_finite"] = _all_finite(full)
    del full
    if not r["full_shape_finite"]:
        r["status"] = "wrong"
        return
    r["median_ms"] = time_fn(fn, sets, ctx.args.warmup, ctx.args.rep)


def _block_pkg_for(cfg: BlockConfig, ctx: Ctx) -> Path:
    if cfg.d_model is None:
        return ctx.pkg_dir
    mapping = ctx.args.block_pkgs_map
    if cfg.d_model in mapping:
        return _resolve_path(mapping[cfg.d_model])
    default = ROOT / "kernels-out" / f"bench_block_{cfg.d_model}"
    if default.is_dir():
        return default
    # the main package, if it was generated for this d_model
    try:
        if _ir_d_model(load_ir(ctx.pkg_dir)) == cfg.d_model:
            return ctx.pkg_dir
    except Exception:
        pass
    raise Skip(f"no generated package for d_model {cfg.d_model}: generate kernels-out/bench_block_{cfg.d_model} "
               f"or pass --block-pkgs {cfg.d_model}=<dir>")


def _ir_d_model(ir: dict) -> int:
    for node in ir["nodes"]:
        if node.get("kind") == "Input":
            return int(node["features"])
    return int(ir["config"]["dModel"])


def _block_dims(ir: dict) -> dict:
    """Mamba2Simple's constructor arguments, read from the IR's nodes (the
    Graph's `config` as a fallback)."""
    c = ir.get("config", {})
    scan = next((nd for nd in ir["nodes"] if nd.get("kind") == "SsdScan"), {})
    conv = next((nd for nd in ir["nodes"] if nd.get("kind") == "CausalConv1d"), {})
    d_model = _ir_d_model(ir)
    headdim = int(scan.get("headdim", c.get("headdim", 64)))
    d_inner = int(scan["nheads"]) * headdim if "nheads" in scan else int(c.get("expand", 2)) * d_model
    return {
        "d_model": d_model,
        "d_inner": d_inner,
        "expand": d_inner // d_model,
        "headdim": headdim,
        "nheads": d_inner // headdim,
        "d_state": int(scan.get("dState", c.get("dState", 128))),
        "ngroups": int(scan.get("ngroups", c.get("ngroups", 1))),
        "d_conv": int(conv.get("width", c.get("dConv", 4))),
    }


def _make_generated_module(pkg: ModuleType, ir: dict, device: str):
    import torch

    cls = getattr(pkg, ir["className"])
    errors = []
    # the seed's constructor (d_model first; the class checks it against the model
    # file) chooses each parameter's dtype itself (A_log, D may stay fp32)
    for args in ((_ir_d_model(ir),), ()):
        try:
            return cls(*args, device=device, dtype=torch.bfloat16).eval()
        except TypeError as e:
            errors.append(str(e))
    try:
        return cls().to(device=device, dtype=torch.bfloat16).eval()
    except TypeError as e:
        errors.append(str(e))
    raise TypeError(f"cannot construct {ir['className']}: {errors}")


def _make_baseline_block(ctx: Ctx, ir: dict, sd: dict):
    import torch

    Mamba2Simple = ctx.baseline()["Mamba2Simple"]
    dims = _block_dims(ir)
    kwargs = dict(
        d_state=dims["d_state"], d_conv=dims["d_conv"], expand=dims["expand"],
        headdim=dims["headdim"], ngroups=dims["ngroups"],
        learnable_init_states="init_states" in sd, bias="in_proj.bias" in sd, conv_bias="conv1d.bias" in sd,
        chunk_size=BASELINE_CHUNK, use_mem_eff_path=False, device=ctx.device, dtype=torch.bfloat16,
    )
    dt_node = next((nd for nd in ir["nodes"] if nd.get("kind") == "DtTransform"), {})
    lim = dt_node.get("limit")
    if isinstance(lim, (list, tuple)) and len(lim) == 2:
        kwargs["dt_limit"] = tuple(math.inf if v is None else float(v) for v in lim)
    base = Mamba2Simple(dims["d_model"], **kwargs).eval()
    base.load_state_dict(sd, strict=True)  # same keys and shapes, or it raises
    with torch.no_grad():  # identical weights: also keep the generated module's dtypes (e.g. fp32 A_log)
        for name, prm in base.named_parameters():
            if prm.dtype != sd[name].dtype:
                prm.data = sd[name].detach().to(ctx.device).clone()
    return base


def run_block_config(cfg: BlockConfig, ctx: Ctx, providers: List[str], emit: Progress) -> dict:
    import torch

    rec: dict = {"config": cfg.to_json(), "floor": None, "providers": {}}
    wanted = []
    if any(p in providers for p in ("fused", "chunked", "generated")):
        wanted.append("generated")
    if "mamba_ssm" in providers:
        wanted.append("mamba_ssm")
    try:
        pkg_dir = _block_pkg_for(cfg, ctx)
        pkg = load_generated(pkg_dir) if pkg_dir != ctx.pkg_dir or ctx.pkg is None else ctx.pkg
        ir = load_ir(pkg_dir)
        gen = _make_generated_module(pkg, ir, ctx.device)
        with torch.no_grad():  # never ones/zeros: perturb D and the norm weight
            for name, prm in gen.named_parameters():
                if name in ("D", "norm.weight"):
                    prm.add_(0.1 * torch.randn_like(prm))
        sd = {k: v.detach() for k, v in gen.state_dict().items()}
    except Skip as e:
        for p in wanted:
            rec["providers"][p] = {"status": "skipped", "reason": str(e)}
        return rec
    except Exception as e:
        for p in wanted:
            rec["providers"][p] = {"status": "error", "error": f"{type(e).__name__}: {e}",
                                   "traceback": traceback.format_exc(limit=8)}
        _log(traceback.format_exc(limit=8))
        return rec

    dims = _block_dims(ir)
    d_model = dims["d_model"]
    rec["config"]["d_model"] = d_model
    rec["config"]["dims"] = dims
    rec["package"] = str(pkg_dir)
    rec["floor"] = bc.block_floor(
        cfg.batch, cfg.seqlen, d_model, dims["d_inner"], dims["nheads"], dims["headdim"], dims["d_state"],
        dims["ngroups"], dims["d_conv"], sum(v.numel() * v.element_size() for v in sd.values()),
        backward=cfg.mode == "fwdbwd",
    )
    if cfg.mode == "fwdbwd":
        return _run_block_fb(cfg, ctx, wanted, emit, rec, gen, ir, sd, d_model)

    from .reference.graph import ref_block

    for prov in wanted:
        r: dict = {"status": None}
        rec["providers"][prov] = r
        emit({"stage": "check", "config": cfg.name, "provider": prov})
        try:
            mod = gen if prov == "generated" else _make_baseline_block(ctx, ir, sd)
            u = torch.randn(cfg.batch, cfg.seqlen, d_model, device=ctx.device, dtype=torch.bfloat16)
            with torch.no_grad():
                out = mod(u)
                _sync(ctx.device)
                finite = bool(torch.isfinite(out).all())
                rows = 1 if cfg.batch * cfg.seqlen * d_model > FULL_CHECK_MAX * 64 else cfg.batch
                ref = ref_block(ir, sd, u[:rows])
            r["err"] = rel_err(out[:rows], ref)
            r["tol"] = TOL_BLOCK
            r["check_rows"] = rows
            r["all_finite"] = finite
            if not finite or not passes(r["err"], TOL_BLOCK):
                r["status"] = "wrong"
                continue
            del out, ref
            r["status"] = "ok"
            if ctx.args.check_only:
                continue
            emit({"stage": "time", "config": cfg.name, "provider": prov})
            nbytes = u.numel() * u.element_size()
            sets = [u] + [torch.randn_like(u) for _ in range(n_input_sets(nbytes) - 1)]
            r["input_sets"] = len(sets)
            with torch.no_grad():
                r["median_ms"] = time_fn(lambda x, _m=mod: _m(x), sets, ctx.args.warmup, ctx.args.rep)
                if cfg.batch * cfg.seqlen <= bc.GRAPH_MAX_TOKENS and not ctx.args.no_graph:
                    ctx.graph_jobs.append((r, lambda x, _m=mod: _m(x), u))
        except Skip as e:
            r["status"], r["reason"] = "skipped", str(e)
        except Exception as e:
            r["status"], r["error"] = "error", f"{type(e).__name__}: {e}"
            r["traceback"] = traceback.format_exc(limit=8)
            _log(r["traceback"])
        finally:
            if ctx.device == "cuda":
                torch.cuda.empty_cache()
    return rec


def _run_block_fb(cfg: BlockConfig, ctx: Ctx, wanted: List[str], emit: Progress, rec: dict,
                  gen, ir: dict, sd: dict, d_model: int) -> dict:
    """Forward+backward of one block config: the gradients of u and of every
    parameter checked at check_shape, then timed."""
    import torch

    shape = check_shape(cfg)
    rec["check_shape"] = shape
    tol = grad_tol(ctx, TOL_GRAD_BLOCK)
    pnames = [n for n, _ in gen.named_parameters()]
    check = None

    def inputs(b, l):
        u = torch.randn(b, l, d_model, device=ctx.device, dtype=torch.bfloat16)
        return {"u": u.requires_grad_(), "grad_out": torch.randn_like(u, requires_grad=False)}

    for prov in wanted:
        r: dict = {"status": None}
        rec["providers"][prov] = r
        emit({"stage": "check", "config": cfg.name, "provider": prov})
        try:
            mod = gen if prov == "generated" else _make_baseline_block(ctx, ir, sd)
            params = dict(mod.named_parameters())
            if sorted(params) != sorted(pnames):
                raise RuntimeError(f"{prov} has parameters {sorted(params)}, the generated module {sorted(pnames)}")
            for prm in params.values():
                prm.requires_grad_(True)
            plist = [params[n] for n in pnames]

            def fn(i, _m=mod, _plist=plist):
                out = _m(i["u"])
                grads = torch.autograd.grad(out, [i["u"]] + _plist, i["grad_out"], allow_unused=True)
                return dict(zip(["u"] + pnames, grads))

            r["check_shape"] = shape
            if check is None:
                cinp = inputs(shape["batch"], shape["seqlen"])
                check = (cinp, block_reference_grads(ir, sd, pnames, cinp["u"], cinp["grad_out"]))
            if not _grads_right(r, fn, *check, tol, ctx):
                continue
            if ctx.args.check_only:
                continue
            emit({"stage": "time", "config": cfg.name, "provider": prov})
            first = inputs(cfg.batch, cfg.seqlen)
            nbytes = 2 * first["u"].numel() * first["u"].element_size()
            sets = [first] + [inputs(cfg.batch, cfg.seqlen) for _ in range(n_input_sets(nbytes) - 1)]
            _time_if_finite(r, fn, sets, ctx)
            del sets, first
        except Skip as e:
            r["status"], r["reason"] = "skipped", str(e)
        except Exception as e:
            r["status"], r["error"] = "error", f"{type(e).__name__}: {e}"
            r["traceback"] = traceback.format_exc(limit=8)
            _log(r["traceback"])
        finally:
            if ctx.device == "cuda":
                torch.cuda.empty_cache()
    return rec


def add_ratios(rec: dict) -> None:
    """speedup_vs_mamba_ssm = t(mamba_ssm) / t(provider) (>1: faster than the
    baseline measured in this run); floor_fraction = floor / t (1 = at the floor)."""
    provs = rec["providers"]
    base = provs.get("mamba_ssm", {}).get("median_ms")
    floor = (rec.get("floor") or {}).get("ms")
    for r in provs.values():
        t = r.get("median_ms")
        if t:
            if base:
                r["speedup_vs_mamba_ssm"] = base / t
            if floor:
                r["floor_fraction"] = floor / t


# ---------------------------------------------------------------- environment and output

def env_info(device: str) -> dict:
    import torch
    import triton

    info = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "triton": triton.__version__,
        "device": device,
        "gpu": torch.cuda.get_device_name() if device == "cuda" else None,
        "cuda": torch.version.cuda,
        "commit": os.environ.get("MAMBA2_COMMIT") or _git_commit(),
        "triton_interpret": os.environ.get("TRITON_INTERPRET") == "1",
    }
    return info


def _git_commit() -> Optional[str]:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except Exception:
        return None


def default_out(info: dict) -> Path:
    gpu = re.sub(r"[^a-z0-9]+", "-", (info["gpu"] or "cpu").lower()).strip("-")
    return ROOT / "bench" / "results" / f"{info['date'][:10]}-{gpu}.json"


def _json_safe(v):
    """NaN/inf -> null (strict JSON, readable by JSON.parse); tuples -> lists."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x) for x in v]
    return v


def write_json(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(_json_safe(doc), indent=1, allow_nan=False) + "\n")
    os.replace(tmp, path)


def format_table(doc: dict) -> str:
    provs: List[str] = []
    for rec in doc["results"]:
        for p in rec["providers"]:
            if p not in provs:
                provs.append(p)
    head = ["config", "floor ms"] + provs
    rows = [head]
    for rec in doc["results"]:
        fl = (rec.get("floor") or {}).get("ms")
        row = [rec["config"]["name"], f"{fl:.3g}" if fl else "-"]
        for p in provs:
            r = rec["providers"].get(p)
            if r is None:
                row.append("")
            elif r["status"] == "ok" and "median_ms" in r:
                cell = f"{r['median_ms']:.3f}"
                extra = []
                if "speedup_vs_mamba_ssm" in r and p != "mamba_ssm":
                    extra.append(f"{r['speedup_vs_mamba_ssm']:.2f}x")
                if "floor_fraction" in r:
                    extra.append(f"{100 * r['floor_fraction']:.2g}%fl")
                if "graph_ms" in r:
                    extra.append(f"g{r['graph_ms']:.3f}")
                row.append(cell + (" (" + ", ".join(extra) + ")" if extra else ""))
            elif r["status"] == "ok":
                row.append(f"ok {r['err']:.1e}")
            elif r["status"] == "wrong":
                bad = r.get("wrong_grads")
                what = f"d{bad[0]} {r['grad_errs'][bad[0]]:.1e}" if bad else f"{r.get('err', float('nan')):.1e}"
                row.append(f"WRONG {what}")
            else:
                row.append(r["status"])
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    legend = ("ms = do_bench median; Nx = speedup over mamba_ssm in this run; %fl = floor/time; "
              "g = CUDA-graph replay ms; WRONG = err vs float64 reference over tolerance (not timed); "
              "-fb = forward+backward (err: worst gradient)")
    return "\n".join(lines + [legend])


# ---------------------------------------------------------------- entry points

def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m mamba2_runner.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pkg", default="kernels-out/mamba2_simple", help="generated package for the SSD configs")
    ap.add_argument("--configs", default="default", help="all | tiny | NAME,... (default: all on CUDA, tiny on CPU)")
    ap.add_argument("--mode", default="fwd", choices=bc.MODES,
                    help="fwd: forward only; fwdbwd: forward+backward (configs NAME-fb); both: fwd then fwdbwd")
    ap.add_argument("--grad-tol", type=float, default=None,
                    help=f"fwdbwd: one relative-error tolerance for every gradient "
                         f"(default {TOL_GRAD_SSD:g} SSD, {TOL_GRAD_BLOCK:g} block)")
    ap.add_argument("--providers", default=",".join(SSD_PROVIDERS))
    ap.add_argument("--block-pkgs", default="", help="D_MODEL=DIR,... (default kernels-out/bench_block_<D>)")
    ap.add_argument("--chunk-size", type=int, default=None, help="chunk for fused/chunked/torch (default: package CHUNK_SIZE)")
    ap.add_argument("--baseline", default=str(BASELINE_DIR), help="folder holding mamba_ssm/ (scripts/fetch-baseline.sh)")
    ap.add_argument("--out", default=None, help="JSON path (default bench/results/<date>-<gpu>.json)")
    ap.add_argument("--check-only", action="store_true", help="correctness only, no timing")
    ap.add_argument("--warmup", type=int, default=25, help="do_bench warmup, ms")
    ap.add_argument("--rep", type=int, default=100, help="do_bench repetition, ms")
    ap.add_argument("--no-graph", action="store_true", help="skip CUDA-graph timing of the seed shape")
    ap.add_argument("--budget-s", type=float, default=480.0,
                    help="start no new config after this many seconds (0 = no limit); the rest are recorded as skipped")
    return ap


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    args.block_pkgs_map = {}
    for item in [s for s in args.block_pkgs.split(",") if s.strip()]:
        k, _, v = item.partition("=")
        if not v:
            raise SystemExit(f"--block-pkgs expects D_MODEL=DIR, got {item!r}")
        args.block_pkgs_map[int(k)] = v
    return args


def run(args: argparse.Namespace, emit: Optional[Progress] = None) -> dict:
    """Run the bench; `emit` receives progress dicts (the worker forwards them as events)."""
    emit = emit or (lambda d: _log(f"[bench] {d.get('stage')} {d.get('config', '')} {d.get('provider', '')}"))
    device = select_device()  # before any generated kernel is imported
    import torch

    # MAMBA2_BENCH_CPU_TIMING=1: let the tests drive the timing path on CPU with stub timers
    if device != "cuda" and not args.check_only and os.environ.get("MAMBA2_BENCH_CPU_TIMING") != "1":
        raise SystemExit("no CUDA device: timing needs a GPU. Use --check-only for the CPU correctness pass.")
    providers = [p.strip() for p in args.providers.split(",") if p.strip()]
    configs = bc.resolve(args.configs, tiny_default=device != "cuda", mode=args.mode)
    ctx = Ctx(args, device)
    info = env_info(device)
    out_path = _resolve_path(args.out) if args.out else default_out(info)
    doc = {
        "meta": {
            **info,
            "argv": sys.argv[1:],
            "package": str(ctx.pkg_dir),
            "package_error": ctx.pkg_error,
            "package_chunk_size": ctx.pkg_chunk,
            "chunk_size_override": args.chunk_size,
            "providers": providers,
            "check_only": args.check_only,
            "mode": args.mode,
            "do_bench": {"warmup_ms": args.warmup, "rep_ms": args.rep, "return_mode": "median"},
            "budget_s": args.budget_s,
            "tolerance": {"ssd": TOL_SSD, "block": TOL_BLOCK,
                          "grad_ssd": grad_tol(ctx, TOL_GRAD_SSD), "grad_block": grad_tol(ctx, TOL_GRAD_BLOCK),
                          "grad_check": f"batch 1, seqlen min(L, {GRAD_CHECK_MAX_L})"},
            "baseline": None,
            "out": str(out_path),
        },
        "results": [],
    }
    t0 = time.time()
    for i, cfg in enumerate(configs):
        emit({"stage": "config", "config": cfg.name, "index": i, "total": len(configs)})
        torch.manual_seed(int.from_bytes(os.urandom(4), "little"))
        if args.budget_s and time.time() - t0 > args.budget_s:
            reason = f"time budget {args.budget_s:.0f} s spent before this config (--budget-s)"
            rec = {"config": cfg.to_json(), "floor": bc.config_floor(cfg),
                   "providers": {p: {"status": "skipped", "reason": reason} for p in providers}}
        elif isinstance(cfg, SsdConfig) and cfg.mode == "fwdbwd":
            rec = run_ssd_fb_config(cfg, ctx, providers, emit)
        elif isinstance(cfg, SsdConfig):
            rec = run_ssd_config(cfg, ctx, providers, emit)
        else:
            rec = run_block_config(cfg, ctx, providers, emit)
        add_ratios(rec)
        doc["results"].append(rec)
        if ctx._baseline is not None:
            doc["meta"]["baseline"] = ctx._baseline["info"]
        doc["meta"]["elapsed_s"] = round(time.time() - t0, 1)
        write_json(out_path, doc)
        emit({"stage": "done", "config": cfg.name, "index": i, "total": len(configs),
              "providers": {p: {k: r.get(k) for k in ("status", "median_ms", "err")} for p, r in rec["providers"].items()}})
    if ctx.graph_jobs:
        emit({"stage": "graph", "jobs": len(ctx.graph_jobs)})
        import torch as _t

        for r, fn, inp in ctx.graph_jobs:
            try:
                with _t.no_grad():
                    r["graph_ms"] = time_graph(fn, inp, args.rep)
            except Exception as e:
                r["graph_error"] = f"{type(e).__name__}: {e}"[:500]
        ctx.graph_jobs.clear()
        doc["meta"]["elapsed_s"] = round(time.time() - t0, 1)
        write_json(out_path, doc)
    return doc


def failures(doc: dict) -> List[str]:
    """'config/provider: status' for every wrong or failing provider of ours
    (the baseline failing is reported in the JSON, not counted)."""
    return [f"{rec['config']['name']}/{p}: {r['status']}" for rec in doc["results"]
            for p, r in rec["providers"].items() if r["status"] in ("wrong", "error") and p != "mamba_ssm"]


def summary(doc: dict) -> List[dict]:
    """One compact row per (config, provider), for the worker's response."""
    rows = []
    for rec in doc["results"]:
        for p, r in rec["providers"].items():
            rows.append({"config": rec["config"]["name"], "provider": p,
                         "floor_ms": (rec.get("floor") or {}).get("ms"),
                         **{k: r.get(k) for k in ("status", "err", "median_ms", "graph_ms",
                                                  "speedup_vs_mamba_ssm", "floor_fraction", "reason", "error")}})
    for row in rows:  # NaN is not JSON
        if isinstance(row.get("err"), float) and math.isnan(row["err"]):
            row["err"] = None
    return rows


def op_bench(args: dict, emit: Progress) -> dict:
    """Worker op `bench`: args are the CLI flags as JSON, e.g.
    {"configs": "all", "providers": "fused,mamba_ssm", "block_pkgs": {"1536": "kernels-out/bench_block_1536"},
     "check_only": false, "out": "bench/results/x.json"}. Progress events: {"stage": "config"|"check"|"time"|"done", ...}."""
    argv: List[str] = []
    for key, val in (args or {}).items():
        flag = "--" + key.replace("_", "-")
        if key == "block_pkgs" and isinstance(val, dict):
            val = ",".join(f"{k}={v}" for k, v in val.items())
        if isinstance(val, (list, tuple)):
            val = ",".join(str(v) for v in val)
        if val is True:
            argv.append(flag)
        elif val is False or val is None:
            continue
        else:
            argv += [flag, str(val)]
    doc = run(parse_args(argv), emit)
    return _json_safe({"out": doc["meta"]["out"], "table": format_table(doc), "failed": failures(doc),
            "rows": summary(doc), "meta": {k: doc["meta"].get(k) for k in ("gpu", "torch", "triton", "commit", "date", "elapsed_s")}})


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    doc = run(args)
    print(format_table(doc))
    print(f"wrote {doc['meta']['out']}")
    bad = failures(doc)
    if bad:
        print("FAILED: " + "; ".join(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
