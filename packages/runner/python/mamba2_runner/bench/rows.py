"""One config -> one result record: for each provider, check against the
float64 reference (checks.py), then time the ones that are right (timing.py).

Record: {"config", "floor", ["check_shape"], ["package"], "providers": {name: row}};
row status "ok" | "wrong" (over tolerance or non-finite: never timed) |
"skipped" (with "reason") | "error" (with "error", "traceback"). A timed row
has median_ms, input_sets, memory {peak_bytes, extra_bytes} of one call at
the full shape (CUDA only), and after add_ratios: speedup_vs_<baseline> for
each incumbent timed in the same record, floor_fraction = floor / time, and
for a --compare-pkg row NAME@LABEL, speedup_of_current = t(NAME@LABEL) / t(NAME).
"""
from __future__ import annotations

import sys
import traceback
from typing import Callable, List

from ..checks import passes, rel_err
from . import configs as bc
from . import timing
from .checks import (FULL_CHECK_MAX, TOL_BLOCK, TOL_GRAD_BLOCK, TOL_GRAD_SSD, TOL_SSD, block_reference_grads,
                     check_config, check_shape, fwdbwd_fn, grads_right, make_ssd_fb_inputs, make_ssd_inputs,
                     ssd_grad_names, ssd_input_bytes, ssd_reference, ssd_reference_grads, sync, all_finite)
from .configs import BlockConfig, SsdConfig
from .providers import (BASELINES, BLOCK_PROVIDERS, SSD_PROVIDERS, Ctx, Skip, base_name, block_dims, block_module,
                        block_pkg_dir, expand_providers, make_generated_module, ssd_provider)
from ..pkgload import load_ir
from ..reference import ref_block

Progress = Callable[[dict], None]
FB_SSD_LEFT_OUT = ("chunked",)  # shares fused's backward: not benchmarked in fwdbwd


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def grad_tol(ctx: Ctx, default: float) -> float:
    return ctx.args.grad_tol if getattr(ctx.args, "grad_tol", None) else default


def _each(rec: dict, providers: List[str], cfg, ctx: Ctx, emit: Progress, body) -> dict:
    """body(prov, row) for every provider, with the same skip/error recording."""
    import torch

    for prov in providers:
        r: dict = {"status": None}
        rec["providers"][prov] = r
        emit({"stage": "check", "config": cfg.name, "provider": prov})
        try:
            body(prov, r)
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


def _time_fb(r: dict, fn, make_inputs: Callable[[], dict], nbytes: Callable[[dict], int], ctx: Ctx) -> None:
    """forward+backward rows: one call at the full shape first, alone in
    memory besides the weights (its peak memory is recorded; every output and
    gradient element must be finite, else the row is wrong and not timed),
    then the do_bench median over the input sets."""
    first = make_inputs()
    full, r["memory"] = timing.peak_memory(fn, first, ctx.device)
    sync(ctx.device)
    r["full_shape_finite"] = all_finite(full)
    del full
    if not r["full_shape_finite"]:
        r["status"] = "wrong"
        return
    sets = [first] + [make_inputs() for _ in range(timing.n_input_sets(nbytes(first)) - 1)]
    r["input_sets"] = len(sets)
    r["median_ms"] = timing.time_fn(fn, sets, ctx.args.warmup, ctx.args.rep)


# ---------------------------------------------------------------- SSD

def run_ssd_config(cfg: SsdConfig, ctx: Ctx, providers: List[str], emit: Progress) -> dict:
    import torch

    rec = {"config": cfg.to_json(), "floor": bc.ssd_floor(cfg), "providers": {}}

    def body(prov, r):
        fn, q = ssd_provider(prov, ctx, cfg)
        r["chunk_size"] = q
        inp = make_ssd_inputs(cfg, ctx.device)
        with torch.no_grad():
            out, r["memory"] = timing.peak_memory(fn, inp, ctx.device)
            sync(ctx.device)
            finite = bool(torch.isfinite(out).all())
            ref, (ri, hi) = ssd_reference(cfg, inp)
            got = out.index_select(0, ri).index_select(2, hi)
        r["check_slice"] = {"batch_rows": ri.tolist(), "heads": hi.tolist(),
                            "full": tuple(out.shape) == tuple(got.shape)}
        r["err"] = rel_err(got, ref)
        r["tol"] = TOL_SSD
        r["all_finite"] = finite
        if not finite or not passes(r["err"], TOL_SSD):
            r["status"] = "wrong"
            return
        del out, ref, got
        r["status"] = "ok"
        if ctx.args.check_only:
            return
        emit({"stage": "time", "config": cfg.name, "provider": prov})
        sets = [inp] + [make_ssd_inputs(cfg, ctx.device)
                        for _ in range(timing.n_input_sets(ssd_input_bytes(inp)) - 1)]
        r["input_sets"] = len(sets)
        with torch.no_grad():
            r["median_ms"] = timing.time_fn(fn, sets, ctx.args.warmup, ctx.args.rep)
            if cfg.batch * cfg.seqlen <= bc.GRAPH_MAX_TOKENS and not ctx.args.no_graph:
                ctx.graph_jobs.append((r, fn, inp))

    return _each(rec, expand_providers(providers, list(ctx.compare), SSD_PROVIDERS), cfg, ctx, emit, body)


def run_ssd_fb_config(cfg: SsdConfig, ctx: Ctx, providers: List[str], emit: Progress) -> dict:
    """Forward+backward of one SSD config: gradient check at check_shape, then time."""
    names = ssd_grad_names(cfg)
    shape = check_shape(cfg)
    rec = {"config": cfg.to_json(), "floor": bc.ssd_fb_floor(cfg), "check_shape": shape, "providers": {}}
    tol = grad_tol(ctx, TOL_GRAD_SSD)
    check: list = []  # (inputs, reference gradients) at the check shape, shared by the providers

    def body(prov, r):
        fwd, q = ssd_provider(prov, ctx, cfg)
        fn = fwdbwd_fn(fwd, names)
        r["chunk_size"] = q
        r["check_shape"] = shape
        if not check:
            cinp = make_ssd_fb_inputs(check_config(cfg), ctx.device)
            check[:] = [cinp, ssd_reference_grads(cinp, names)]
        if not grads_right(r, fn, *check, tol, ctx.device) or ctx.args.check_only:
            return
        emit({"stage": "time", "config": cfg.name, "provider": prov})
        _time_fb(r, fn, lambda: make_ssd_fb_inputs(cfg, ctx.device), ssd_input_bytes, ctx)

    wanted = [p for p in expand_providers(providers, list(ctx.compare), SSD_PROVIDERS)
              if base_name(p) not in FB_SSD_LEFT_OUT]
    return _each(rec, wanted, cfg, ctx, emit, body)


# ---------------------------------------------------------------- blocks

def block_providers(providers: List[str], ctx: Ctx) -> List[str]:
    """fused, chunked or generated asked for -> the generated module runs."""
    asked = ["generated" if p in ("fused", "chunked", "generated") else p for p in providers]
    return expand_providers(asked, list(ctx.compare), BLOCK_PROVIDERS)


def run_block_config(cfg: BlockConfig, ctx: Ctx, providers: List[str], emit: Progress) -> dict:
    import torch

    rec: dict = {"config": cfg.to_json(), "floor": None, "providers": {}}
    wanted = block_providers(providers, ctx)
    try:
        pkg_dir = block_pkg_dir(cfg, ctx)
        pkg = ctx.package(None, pkg_dir)
        if pkg.mod is None:
            raise Skip(pkg.error)
        ir = load_ir(pkg_dir)
        gen = make_generated_module(pkg.mod, ir, ctx.device)
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

    dims = block_dims(ir)
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
        return _run_block_fb(cfg, ctx, wanted, emit, rec, gen, pkg_dir, ir, sd, d_model)

    def body(prov, r):
        mod = block_module(prov, ctx, cfg, gen, pkg_dir, ir, sd)
        u = torch.randn(cfg.batch, cfg.seqlen, d_model, device=ctx.device, dtype=torch.bfloat16)
        with torch.no_grad():
            out, r["memory"] = timing.peak_memory(mod, u, ctx.device)
            sync(ctx.device)
            finite = bool(torch.isfinite(out).all())
            rows = 1 if cfg.batch * cfg.seqlen * d_model > FULL_CHECK_MAX * 64 else cfg.batch
            ref = ref_block(ir, sd, u[:rows])
        r["err"] = rel_err(out[:rows], ref)
        r["tol"] = TOL_BLOCK
        r["check_rows"] = rows
        r["all_finite"] = finite
        if not finite or not passes(r["err"], TOL_BLOCK):
            r["status"] = "wrong"
            return
        del out, ref
        r["status"] = "ok"
        if ctx.args.check_only:
            return
        emit({"stage": "time", "config": cfg.name, "provider": prov})
        nbytes = u.numel() * u.element_size()
        sets = [u] + [torch.randn_like(u) for _ in range(timing.n_input_sets(nbytes) - 1)]
        r["input_sets"] = len(sets)
        with torch.no_grad():
            r["median_ms"] = timing.time_fn(lambda x, _m=mod: _m(x), sets, ctx.args.warmup, ctx.args.rep)
            if cfg.batch * cfg.seqlen <= bc.GRAPH_MAX_TOKENS and not ctx.args.no_graph:
                ctx.graph_jobs.append((r, lambda x, _m=mod: _m(x), u))

    return _each(rec, wanted, cfg, ctx, emit, body)


def _run_block_fb(cfg: BlockConfig, ctx: Ctx, wanted: List[str], emit: Progress, rec: dict,
                  gen, pkg_dir, ir: dict, sd: dict, d_model: int) -> dict:
    """Forward+backward of one block config: the gradients of u and of every
    parameter checked at check_shape, then timed."""
    import torch

    shape = check_shape(cfg)
    rec["check_shape"] = shape
    tol = grad_tol(ctx, TOL_GRAD_BLOCK)
    pnames = [n for n, _ in gen.named_parameters()]
    check: list = []

    def inputs(b, l):
        u = torch.randn(b, l, d_model, device=ctx.device, dtype=torch.bfloat16)
        return {"u": u.requires_grad_(), "grad_out": torch.randn_like(u, requires_grad=False)}

    def body(prov, r):
        mod = block_module(prov, ctx, cfg, gen, pkg_dir, ir, sd)
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
        if not check:
            cinp = inputs(shape["batch"], shape["seqlen"])
            check[:] = [cinp, block_reference_grads(ir, sd, pnames, cinp["u"], cinp["grad_out"])]
        if not grads_right(r, fn, *check, tol, ctx.device) or ctx.args.check_only:
            return
        emit({"stage": "time", "config": cfg.name, "provider": prov})
        _time_fb(r, fn, lambda: inputs(cfg.batch, cfg.seqlen),
                 lambda i: 2 * i["u"].numel() * i["u"].element_size(), ctx)

    return _each(rec, wanted, cfg, ctx, emit, body)


# ---------------------------------------------------------------- ratios

def add_ratios(rec: dict) -> None:
    """speedup_vs_<b> = t(b) / t(provider) for each incumbent b timed in this
    record (>1: faster than it, in this run); floor_fraction = floor / t (1 =
    at the floor); on NAME@LABEL rows, speedup_of_current = t(NAME@LABEL) / t(NAME)
    (>1: the current package is faster than the compared one)."""
    provs = rec["providers"]
    floor = (rec.get("floor") or {}).get("ms")
    bases = {b: provs[b]["median_ms"] for b in BASELINES if (provs.get(b) or {}).get("median_ms")}
    for name, r in provs.items():
        t = r.get("median_ms")
        if not t:
            continue
        for b, tb in bases.items():
            r[f"speedup_vs_{b}"] = tb / t
        if floor:
            r["floor_fraction"] = floor / t
        if "@" in name:
            cur = (provs.get(base_name(name)) or {}).get("median_ms")
            if cur:
                r["speedup_of_current"] = t / cur

