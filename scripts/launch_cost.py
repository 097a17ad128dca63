"""Host cost of Triton's launch path (JITFunction.run) for the seed block's launches, on a CPU-only machine.

The seed block (kernels-out/mamba2_simple: d_model 256, batch 2, seqlen 128) runs forward + backward once
on `meta` tensors with JITFunction.run replaced by a recorder, which keeps every launch's (kernel, args,
kwargs, grid). Then, per recorded launch, Triton's real run() is called with the same arguments through a
fake CUDA driver (target sm_90, device 0, stream 0: Triton builds its real CUDA binder) and a stub compiled
kernel put under the exact cache key run() computes; so everything of run() runs except the C launcher
(PyArg parsing, a cuPointerGetAttribute per tensor, cuLaunchKernelEx), which needs a GPU. Pieces timed:
  bind  the binder (Triton's generated dynamic_func: native_specialize_impl per non-constexpr argument)
  key   compute_cache_key (a cache hit: tuple + str(options) + dict lookup)
  glob  the used_global_vals check
  rest  the rest of run(): knobs, driver, launch_metadata, the (stub) launcher call
Synthetic kernels (one tensor + 60 ints / tensors / constexprs / ints by keyword) give per-argument costs.

    .venv/bin/python scripts/launch_cost.py            # wall times (perf_counter, best of rounds; NOISY
                                                       # on a shared 2-core machine)
    .venv/bin/python scripts/launch_cost.py --insitu   # also run() timed inside the real fwd+bwd loop
                                                       # (thread time), first launch and a back-to-back repeat
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/lc/cg.out \\
        .venv/bin/python scripts/launch_cost.py --ir   # instruction counts (deterministic), ~2 min
    .venv/bin/python scripts/launch_cost.py --ir-report /tmp/lc   # the table from those dumps
    .venv/bin/python scripts/launch_cost.py --check    # prepared launches == run() on every recorded launch
run() is timed through JITFunction.__getitem__ (Triton's own path); "prep" is kernel[grid](...), the
prepared path of kernels/fastlaunch.py (a hit: warmed up first).
NOTES.md "Triton launch host cost (2026-12-02, CPU, NOT measured on the GPU)" has the results.
"""
from __future__ import annotations

import argparse
import ctypes
import glob
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "packages/kernels/python"))
N_IR = 20  # calls per segment under callgrind


def capture(pkg):
    """[(JITFunction, args, kwargs, grid)] of one fwd+bwd of the block on meta, and (mod, fn, inp)."""
    import host_profile as hp  # unsets TRITON_INTERPRET: the compiled path's host code
    from triton.runtime.jit import JITFunction

    orig = JITFunction.run
    log, on = [], [False]

    def run(self, *args, grid, warmup, **kwargs):
        if on[0]:
            log.append((self, args, dict(kwargs), grid))
        return None
    JITFunction.run = run
    mod, fn, inp = hp.build(ROOT / pkg, "meta", 0)
    fn(inp)
    on[0] = True
    fn(inp)
    on[0] = False
    JITFunction.run = orig
    return log, (mod, fn, inp)


class FakeDriver:
    """What run() asks the active driver: device, stream, and (create_binder) the target."""

    def get_current_device(self):
        return 0

    def get_current_stream(self, device):
        return 0

    def get_current_target(self):
        from triton.backends.compiler import GPUTarget
        return GPUTarget("cuda", 90, 32)


def stub_kernel(log=None):
    """A CompiledKernel as run() finds it in its cache (handles loaded); its launcher does nothing, or
    appends its arguments to `log`."""
    from triton.compiler.compiler import CompiledKernel

    k = CompiledKernel.__new__(CompiledKernel)
    k.name, k.function, k.packed_metadata, k.module, k.src = "stub", 0, (4, 1, 0), object(), None
    k._run = (lambda *a: None) if log is None else (lambda *a: log.append(a))
    return k


def install(jf, args, kwargs, log=None):
    """Put a stub kernel under the key run() computes for this call; fill used_global_vals as a
    compile would. Returns (binder, kwargs as run() passes them, key cache, specialization, options)."""
    from triton import knobs
    from triton.runtime.driver import driver
    from triton.runtime.jit import compute_cache_key

    driver.set_active(FakeDriver())
    if not getattr(jf, "_launch_cost_fresh", False):
        jf.device_caches.clear()  # a binder built for the fake sm_90 target
        jf._launch_cost_fresh = True
    kernel_cache, key_cache, _target, _backend, binder = jf.device_caches[0]
    kw = dict(kwargs)
    kw["debug"] = kw.get("debug", jf.debug) or knobs.runtime.debug
    kw["instrumentation_mode"] = knobs.compilation.instrumentation_mode
    _, spec, opts = binder(*args, **kw)
    kernel_cache[compute_cache_key(key_cache, spec, opts)] = stub_kernel(log)
    jf.cache_key  # noqa: B018  (fills used_global_vals, as the compile does)
    return binder, kw, key_cache, spec, opts


def no_compile():
    """A launch whose key has no stub would compile: fail instead, naming the kernel."""
    from triton.runtime.jit import JITFunction

    def miss(self, *a, **k):
        raise RuntimeError(f"launch_cost: {self.fn.__name__} missed its stub kernel (specialization changed)")
    JITFunction._do_compile = miss


def segments(log, synth_dir=None):
    """[(name, callable)]: per launch full run() / bind / key / glob; synthetic kernels."""
    from triton.runtime.jit import JITFunction, compute_cache_key

    segs = []
    for i, (jf, a, k, g) in enumerate(log):
        binder, kw, kc, spec, opts = install(jf, a, k)
        gv = list(jf.used_global_vals.items())

        def gcheck(gv=gv):
            for (name, _), (val, gd) in gv:
                if gd.get(name) != val:
                    raise RuntimeError(name)
        nfr = sum(isinstance(x, JITFunction) for x in list(a) + list(k.values()))
        tag = f"{i}:{jf.fn.__name__}:{len(jf.params)}:{sum(p.is_constexpr for p in jf.params)}:{nfr}"
        segs += [(f"{tag}:full", lambda jf=jf, a=a, k=k, g=g: JITFunction.__getitem__(jf, g)(*a, **k)),
                 (f"{tag}:prep", lambda jf=jf, a=a, k=k, g=g: jf[g](*a, **k)),
                 (f"{tag}:bind", lambda b=binder, a=a, kw=kw: b(*a, **kw)),
                 (f"{tag}:key", lambda kc=kc, s=spec, o=opts: compute_cache_key(kc, s, o)),
                 (f"{tag}:glob", gcheck)]
    if synth_dir is not None:
        import torch

        lines = ["import triton", "import triton.language as tl",
                 "from mamba2_kernels.kernels.fastlaunch import fast_launch", ""]
        for kind in ("int", "tensor", "cexpr", "kwint"):
            for n in (0, 60):
                ps = ", ".join((f"c{i}: tl.constexpr" if kind == "cexpr" else f"a{i}") for i in range(n))
                for pre, deco in (("k", []), ("kp", ["@fast_launch"])):
                    lines += deco + ["@triton.jit", f"def {pre}_{kind}_{n}(X{', ' + ps if ps else ''}):", "    pass", ""]
        Path(synth_dir, "launch_cost_synth.py").write_text("\n".join(lines))
        sys.path.insert(0, str(synth_dir))
        import launch_cost_synth as synth

        X = torch.empty(64, device="meta", dtype=torch.bfloat16)
        for kind in ("int", "tensor", "cexpr", "kwint"):
            for n in (0, 60):
                jf = getattr(synth, f"k_{kind}_{n}")
                if kind in ("int", "cexpr"):
                    a, k = (X,) + tuple(range(100, 100 + n)), {}
                elif kind == "tensor":
                    a, k = (X,) + tuple(torch.empty(64, device="meta", dtype=torch.bfloat16) for _ in range(n)), {}
                else:  # keyword names interned, as a call site's literal keywords are
                    a, k = (X,), {sys.intern(f"a{i}"): 100 + i for i in range(n)}
                k = dict(k, num_warps=4)
                install(jf, a, k)
                segs.append((f"synth:{kind}:{n}:full", lambda jf=jf, a=a, k=k: jf[(1,)](*a, **k)))
                jp = getattr(synth, f"kp_{kind}_{n}")
                install(jp, a, k)
                segs.append((f"synth:{kind}:{n}:prep", lambda jf=jp, a=a, k=k: jf[(1,)](*a, **k)))
    return segs


def table(vals):
    """vals: {segment name: cost}; prints per launch full / bind / key / glob / rest and the synthetics."""
    rows, tot = {}, defaultdict(float)
    for name, v in vals.items():
        if name.startswith("synth:"):
            continue
        i, kn, npar, ncx, nfr, part = name.split(":")
        rows.setdefault((int(i), kn, npar, ncx, nfr), {})[part] = v
    print(f"{'launch':28s} {'params':>6s} {'cexpr':>5s} {'frag':>4s} | {'run()':>7s} {'bind':>7s} {'key':>6s} "
          f"{'glob':>5s} {'rest':>7s} | {'prep':>6s} {'saved':>6s}")
    for (i, kn, npar, ncx, nfr), p in rows.items():
        rest = p["full"] - p["bind"] - p["key"] - p["glob"]
        prep = p.get("prep", float("nan"))
        print(f"{kn:28s} {npar:>6s} {ncx:>5s} {nfr:>4s} | {p['full']:7.1f} {p['bind']:7.1f} {p['key']:6.1f} "
              f"{p['glob']:5.1f} {rest:7.1f} | {prep:6.1f} {p['full'] - prep:6.1f}")
        for part in ("full", "bind", "key", "glob"):
            tot[part] += p[part]
        tot["prep"] += prep
    rest = tot["full"] - tot["bind"] - tot["key"] - tot["glob"]
    print(f"{'total':28s} {'':18s} | {tot['full']:7.1f} {tot['bind']:7.1f} {tot['key']:6.1f} {tot['glob']:5.1f} "
          f"{rest:7.1f} | {tot['prep']:6.1f} {tot['full'] - tot['prep']:6.1f}")
    for part, what in (("full", "run()"), ("prep", "prepared")):
        syn = {tuple(n.split(":")[1:3]): v for n, v in vals.items() if n.startswith("synth:") and n.endswith(part)}
        if syn:
            base = syn[("int", "0")]
            print(f"synthetic {what}: one tensor arg {base:.1f}; per extra argument (60 of them): " + ", ".join(
                f"{kind} {(syn[(kind, '60')] - syn[(kind, '0')]) / 60:.2f}"
                for kind in ("int", "tensor", "cexpr", "kwint")))


def best_us(f, n=300, rounds=15):
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


def insitu(log, built, calls=100):
    """run() per launch inside the fwd+bwd loop (thread time), and a back-to-back repeat of it."""
    from triton.runtime.jit import JITFunction

    _, fn, inp = built
    orig = JITFunction.run
    first, again = defaultdict(float), defaultdict(float)
    on = [False]

    def run(self, *a, **k):
        if not on[0]:
            return orig(self, *a, **k)
        t0 = time.thread_time()
        r = orig(self, *a, **k)
        t1 = time.thread_time()
        orig(self, *a, **k)  # a stub: launches nothing
        first[self.fn.__name__] += t1 - t0
        again[self.fn.__name__] += time.thread_time() - t1
        return r
    JITFunction.run = run
    for _ in range(10):
        fn(inp)
    on[0] = True
    for _ in range(calls):
        fn(inp)
    on[0] = False
    JITFunction.run = orig
    print(f"in situ (thread time, {calls} fwd+bwd; us per fwd+bwd, all launches of the kernel): first / repeat")
    for k in first:
        print(f"  {k:34s} {first[k] / calls * 1e6:7.1f} {again[k] / calls * 1e6:7.1f}")
    print(f"  {'total':34s} {sum(first.values()) / calls * 1e6:7.1f} {sum(again.values()) / calls * 1e6:7.1f}")


def check(log):
    """Each recorded launch through Triton's run() and through the prepared path (warmed: a hit):
    the same stub kernel, the same grid / stream / function / metadata, the same argument objects,
    launch metadata and hooks None only on the prepared path. Returns the number of mismatches."""
    from triton import knobs
    from triton.runtime.jit import JITFunction

    bad = 0
    for jf, a, k, g in log:
        calls = []
        install(jf, a, k, calls)
        name = jf.fn.__name__
        if not hasattr(jf, "_m2_dev"):
            print(f"  {name}: not prepared (no @fast_launch)")
            bad += 1
            continue
        JITFunction.__getitem__(jf, g)(*a, **k)
        jf[g](*a, **k)  # the first prepared call: run(), then prepared
        jf[g](*a, **k)  # a hit
        ref, first, hit = calls
        ok = (hit[:6] == ref[:6] and len(hit) == len(ref) and all(x is y for x, y in zip(hit[9:], ref[9:]))
              and hit[6:9] == (None, None, None) and first[6] is not None
              and ref[7] is knobs.runtime.launch_enter_hook and not ref[7].calls)
        bad += not ok
        print(f"  {name:34s} {len(ref) - 9:3d} args  {'same as run()' if ok else 'DIFFERENT from run()'}")
    return bad


def ir_report(d):
    vals = {}
    for f in sorted(glob.glob(f"{d}/cg.out.*"), key=lambda p: int(p.rsplit(".", 1)[1])):
        txt = Path(f).read_text(errors="replace")
        m = re.search(r"Client Request: (\S+)", txt)
        s = re.search(r"^summary: (\d+)", txt, re.M)
        if m and s:
            vals[m.group(1)] = int(s.group(1)) / N_IR / 1e3
    print("kIr (thousand instructions, callgrind) per launch")
    table(vals)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pkg", default="kernels-out/mamba2_simple")
    ap.add_argument("--ir", action="store_true", help="under callgrind: dump one segment per piece")
    ap.add_argument("--ir-report", metavar="DIR", help="the table from the callgrind dumps in DIR")
    ap.add_argument("--insitu", action="store_true", help="also time run() inside the fwd+bwd loop")
    ap.add_argument("--check", action="store_true",
                    help="prepared launches (kernels/fastlaunch.py) vs run() on every recorded launch; exit 1 if any differs")
    args = ap.parse_args()
    if args.ir_report:
        return ir_report(args.ir_report)
    import torch

    torch.set_num_threads(1)
    log, built = capture(args.pkg)
    if args.check:
        no_compile()
        bad = check(log)
        print(f"{len(log)} launches, {bad} differ from run()")
        return 1 if bad else 0
    tmp = tempfile.mkdtemp(prefix="launch_cost_")
    segs = segments(log, synth_dir=tmp)
    no_compile()
    if args.ir:
        src = Path(tmp, "cgctl.c")
        src.write_text("#include <valgrind/callgrind.h>\nvoid z(void){CALLGRIND_ZERO_STATS;}\n"
                       "void d(const char*s){CALLGRIND_DUMP_STATS_AT(s);}\n"
                       "void on(void){CALLGRIND_START_INSTRUMENTATION;}\n")
        subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-o", f"{tmp}/cgctl.so", str(src)], check=True)
        cg = ctypes.CDLL(f"{tmp}/cgctl.so")
        cg.on()
        for name, f in segs:
            f()
            f()
            cg.z()
            for _ in range(N_IR):
                f()
            cg.d(name.encode())
        print(f"{len(segs)} segments dumped; report: scripts/launch_cost.py --ir-report <dir of the dumps>")
        return 0
    print("us per launch (perf_counter, best of 15 x 300, hot loop; noisy on a shared machine)")
    table({name: best_us(f) for name, f in segs})
    if args.insitu:
        insitu(log, built)
    return 0


if __name__ == "__main__":
    sys.exit(main())
