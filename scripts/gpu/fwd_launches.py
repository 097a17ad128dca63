"""What the default SSD scan's forward launches, per build, at nan_cost.py's
shapes, without a GPU: every Triton launch (kernel, grid, programs, the
constexprs that differ between builds, warps, stages, maxnreg) and every torch
op on the call's path (allocations, copies, reductions), with the inputs on
the meta device (no data, no kernel runs) and an H200's 132 SMs (the
libraries' fallback where the device cannot be asked).

  .venv/bin/python scripts/gpu/fwd_launches.py --compare pre=.pre-nan --compare old=.old-pkgs/kernels-out/mamba2_simple

maxnreg: the wrappers add it only for CUDA tensors (x.is_cuda); on meta the
condition is printed as it would be evaluated on the GPU ("168 if cuda").
The current library's re-walk choice (ssd_fused_dispatch.pick_rerun) is made as on
an sm_90 GPU (has_wgmma and the measured-config test answer as there).

--set LABEL:NAME=VALUE: set ssd_fused_dispatch.NAME of build LABEL's library copy
(a string) before recording, e.g. --compare cand=packages/kernels/python/mamba2_kernels
--set cand:MASK=exponent (the exponent-mask candidate; NOTES "Exponent mask with a sound flag").

--build: also compile every T-walk / state launch for sm_90 with Triton's own
binder (the signature, constexprs and 16-divisibility / ==1 specialisations the
JIT gives these exact arguments on a GPU, with maxnreg as on the GPU) and print
registers, stack bytes, shared memory and SASS instructions (--sass DIR: dump
each SASS there). No GPU needed; a minute or so per distinct build.
"""
from __future__ import annotations

import argparse
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
import nan_cost  # noqa: E402  (its SHAPES, inputs, loader and package_dir)

SHOW = ("CHUNK", "BLOCK_P", "BLOCK_N", "BLOCK_H", "SPLIT", "EXACT", "RERUN", "FLAGGED", "HAS_SEQ_IDX", "HAS_D",
        "D_PER_CHANNEL", "D_HAS_HDIM")


_BUILDS = {}


def build_sm90(jit, args, kwargs, maxnreg):
    """(regs, stack, smem, sass count, sass text, ints specialised) of the launch's sm_90 build
    (sm90.build_launch: Triton's own binder); read once per build."""
    import sm90
    from bwd_regs import _resources

    key, k, signature, spec = sm90.build_launch(jit, args, kwargs, maxnreg)
    if key not in _BUILDS:
        sass = sm90.sass_text(k.asm["cubin"])
        regs, stack = _resources(k.asm["cubin"])
        _BUILDS[key] = (regs, stack, k.metadata.shared, sm90.sass_count(sass), sass, sm90.loops(sass),
                        sm90.ptxas_info(k.asm["ptx"]),
                        {n: ("=1" if v[0] == "constexpr" else "%16") for n, v, p in zip(signature, spec, jit.params)
                         if not v[0].startswith("*") and n not in kwargs and not p.is_constexpr
                         and (v[0] == "constexpr" or v[1])})
    return _BUILDS[key]


def record(mod, shape, build=False):
    """[(kernel, grid, constexprs, options)], [torch ops] of one forward call."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from triton.runtime.jit import JITFunction

    launches, ops = [], []

    def fake_run(self, *args, grid, warmup, **kwargs):
        g = grid(kwargs) if callable(grid) else grid
        g = tuple(int(v) for v in g) + (1,) * (3 - len(g))
        opts = {k: kwargs[k] for k in ("num_warps", "num_stages", "maxnreg") if k in kwargs}
        consts = {k: v for k, v in kwargs.items() if k in SHOW}
        res = None
        if build and self.fn.__name__.endswith("T_kernel"):
            cap = 168 if opts.get("num_warps") == 4 and consts["CHUNK"] <= 32 and consts["BLOCK_P"] <= 64 else None
            res = build_sm90(self, args, kwargs, cap)
        launches.append((self.fn.__name__, g, consts, opts, res))

    class Ops(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            ops.append(str(func.overloadpacket.__name__))
            return func(*args, **(kwargs or {}))

    torch.manual_seed(0)
    inp, seq = nan_cost.make_inputs(shape, "meta", False)
    if build:  # the binder reads data pointers: real (CPU) tensors, uninitialised
        inp = {k: None if v is None else torch.empty(v.shape, dtype=v.dtype) for k, v in inp.items()}
        seq = None if seq is None else torch.zeros(seq.shape, dtype=seq.dtype)
    fwd, _ = nan_cost.calls(mod, inp, seq, nan_cost.CHUNK)
    saved = JITFunction.run
    JITFunction.run = fake_run
    try:
        with Ops():
            fwd()
    finally:
        JITFunction.run = saved
    return launches, ops


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--compare", action="append", default=[], metavar="LABEL=DIR")
    ap.add_argument("--current", default=nan_cost.CURRENT)
    ap.add_argument("--build", action="store_true", help="also build the T launches for sm_90 (see the docstring)")
    ap.add_argument("--sass", default=None, metavar="DIR", help="with --build: write each build's SASS here")
    ap.add_argument("--shapes", default=None, help="';'-separated labels (default: all five)")
    ap.add_argument("--set", action="append", default=[], metavar="LABEL:NAME=VALUE",
                    help="set ssd_fused_dispatch.NAME (a string) in build LABEL's library copy")
    args = ap.parse_args()
    builds = [("new", nan_cost.package_dir(args.current))]
    for c in args.compare:
        label, _, d = c.partition("=")
        builds.append((label, nan_cost.package_dir(d)))
    mods = {lbl: nan_cost.load(lbl, pkg) for lbl, pkg in builds}
    for st in args.set:
        lbl, _, kv = st.partition(":")
        name, _, value = kv.partition("=")
        disp = getattr(getattr(mods.get(lbl), "kernels", None), "ssd_fused_dispatch", None)
        if disp is None or not hasattr(disp, name):
            raise SystemExit(f"fwd_launches: --set {st}: build {lbl!r} has no ssd_fused_dispatch.{name} "
                             f"(builds: {', '.join(mods)}); name a --compare label and an existing attribute")
        setattr(disp, name, value)
    for mod in mods.values():  # pick_rerun as on an H200 (the CPU has no wgmma and no maxnreg)
        disp = getattr(getattr(mod, "kernels", None), "ssd_fused_dispatch", None)
        if disp is not None and hasattr(disp, "pick_rerun"):
            real = disp.pick_rerun
            disp.has_wgmma = lambda device: True
            disp.pick_rerun = lambda programs, chunks, device, measured, _r=real: _r(programs, chunks, device, True)
    want = None if args.shapes is None else set(args.shapes.split(";"))
    for shape in nan_cost.SHAPES["targets"]:
        if want is not None and shape[0] not in want:
            continue
        print(f"== {shape[0]}", flush=True)
        for lbl, mod in mods.items():
            launches, ops = record(mod, shape, args.build)
            print(f"  {lbl}: {len(launches)} launches; torch ops: {', '.join(ops) or '-'}")
            for i, (name, g, consts, opts, res) in enumerate(launches):
                progs = g[0] * g[1] * g[2]
                if name.endswith("T_kernel") and "maxnreg" not in opts:
                    opts = {**opts, "maxnreg": "168 if cuda" if opts.get("num_warps") == 4 and consts.get(
                        "CHUNK", 99) <= 32 and consts.get("BLOCK_P", 99) <= 64 else None}
                c = " ".join(f"{k}={getattr(v, '__name__', v)}" for k, v in consts.items())
                o = " ".join(f"{k}={v}" for k, v in opts.items())
                print(f"    {name} grid {g} ({progs} programs) {c} {o}")
                if res is not None:
                    regs, stack, smem, n_sass, sass, lps, notes, spec = res
                    print(f"      sm_90: {regs} regs, {stack} B stack, {smem} B shared, {n_sass} SASS; "
                          "ints specialised: " + " ".join(k + v for k, v in spec.items()))
                    for lp in lps:
                        if lp["hgmma"]:  # the walk's loops (the split combine and the seq_idx reads have none)
                            print(f"      loop {lp['start']:#x}-{lp['end']:#x}: {lp['instr']} instr, "
                                  f"{lp['hgmma']} HGMMA in {lp['waits']} waits, LDL/STL {lp['ldl']}/{lp['stl']}"
                                  + (f", {lp['call']} CALL" if lp["call"] else ""))
                    for note in notes:
                        if "C75" in note:
                            print("      ptxas: " + note[note.find("C75") - 1:][:160])
                    if args.sass:
                        os.makedirs(args.sass, exist_ok=True)
                        fn = os.path.join(args.sass, f"{lbl}-{shape[0].replace(',', '_').replace(' ', '_')}-{i}{name}.sass")
                        with open(fn, "w") as f:
                            f.write(sass)


if __name__ == "__main__":
    main()
