"""Host cost of the generated block's forward+backward at the seed shape, on CPU, kernels stubbed.

The bench's `generated` block provider at d_model 256, batch 2, seqlen 128, bf16
(packages/runner/python/mamba2_runner/bench/rows.py `_run_block_fb`): out = mod(u), then
torch.autograd.grad(out, [u] + params, grad_out). At this shape the GPU work is
microseconds and the time is host time: Python, torch dispatch, Triton's launcher.

Profile (default): every Triton launch (JITFunction.run) is replaced by a no-op
that records (kernel name, grid), and the tensors live on the `meta` device (or
--device cpu), so nothing computes. Prints launches per fwd+bwd by kernel, aten
ops per fwd+bwd (TorchDispatchMode, forward and backward), the Python bytecodes
executed per fwd+bwd in the package and in triton/ (sys.settrace opcode events:
deterministic, which timings on a busy 2-core machine are not), wall time per call
(time.perf_counter, best of 5 x --calls after warm-up; on meta mostly meta's own
shape functions), host time outside the aten ops (a timing dispatch mode; noisy),
a cProfile top 30 by cumulative time, and an estimate of the GPU's host time from
the counts (Triton's real launcher and CUDA dispatch per unit; NOT measured here).

    .venv/bin/python scripts/host_profile.py [--pkg kernels-out/mamba2_simple] [--json out.json]

Equality check (--save / --compare): the same fwd+bwd with the real kernels under
Triton's interpreter on CPU tensors (fixed seeds), out and every gradient saved
to a file, or compared with one saved before a change, bit for bit (torch.equal;
NaN positions must match too).

    .venv/bin/python scripts/host_profile.py --save /tmp/before.pt     # before a change
    .venv/bin/python scripts/host_profile.py --compare /tmp/before.pt  # after it: exit 1 unless equal

On the GPU (--cuda; scripts/gpu/call17.sh): the real kernels; host time per call
(no sync), wall per call (synced), host time per Triton launch by kernel
(JITFunction.run timed), a CUDA-graph replay (device time alone) and a
torch.profiler table.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BATCH, SEQLEN = 2, 128  # the bench's block-D256-B2-L128-fb
# Costs of the real thing on the GPU's host, per unit (from the brief / NOTES; NOT measured here):
# Triton's CUDA launcher with ~50 arguments (its binder, specialisation key, cache lookup, cuLaunch),
# and one aten op on CUDA tensors (dispatch + allocator + the CUDA launch when it has a kernel).
TRITON_LAUNCH_US = (20.0, 40.0)
ATEN_OP_US = (5.0, 10.0)
# and one Python bytecode of our host code (3.11; calls and attribute lookups make the upper end)
BYTECODE_NS = (20.0, 50.0)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pkg", default="kernels-out/mamba2_simple", help="the generated package (d_model 256)")
    ap.add_argument("--device", default="meta", choices=("meta", "cpu"),
                    help="profile: tensors on meta (no compute, dispatch only; default) or cpu (CPU math too)")
    ap.add_argument("--calls", type=int, default=200, help="timed calls after warm-up")
    ap.add_argument("--json", help="write the counts and times here")
    ap.add_argument("--save", help="check: run the real kernels (interpreter) and save out + grads here")
    ap.add_argument("--compare", help="check: run the real kernels and compare with a --save file (torch.equal)")
    ap.add_argument("--cuda", action="store_true",
                    help="on the GPU: the real kernels; host time per call, time per Triton launch "
                         "(JITFunction.run timed), wall per call, a torch.profiler table (--json, --prof-out)")
    ap.add_argument("--prof-out", help="--cuda: write the torch.profiler table here")
    ap.add_argument("--seed", type=int, default=0)
    return ap.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None and (ARGS.save or ARGS.compare):
    os.environ["TRITON_INTERPRET"] = "1"  # before triton is imported: the kernels run on CPU tensors
else:
    os.environ.pop("TRITON_INTERPRET", None)  # the compiled path's host code, as on the GPU

sys.path[:0] = [str(ROOT / "packages/runner/python")]

import torch  # noqa: E402

from mamba2_runner.pkgload import load_generated, load_ir  # noqa: E402
from mamba2_runner.bench.providers import ir_d_model, make_generated_module  # noqa: E402


def build(pkg_dir: Path, device: str, seed: int):
    """(module, fn, inputs): fn(inputs) = the bench's fwd+bwd (grads of u and every parameter)."""
    pkg = load_generated(pkg_dir)
    ir = load_ir(pkg_dir)
    torch.manual_seed(seed)
    mod = make_generated_module(pkg, ir, "cpu")  # built on CPU (init maths), moved after
    if device != "cpu":
        mod = mod.to(device)
    names = [n for n, _ in mod.named_parameters()]
    for prm in mod.parameters():
        prm.requires_grad_(True)
    plist = [dict(mod.named_parameters())[n] for n in names]
    d_model = ir_d_model(ir)
    g = torch.Generator().manual_seed(seed + 1)
    u = torch.randn(BATCH, SEQLEN, d_model, generator=g).to(torch.bfloat16)
    go = torch.randn(BATCH, SEQLEN, d_model, generator=g).to(torch.bfloat16)
    inp = {"u": u.to(device).requires_grad_(), "grad_out": go.to(device)}

    def fn(i, _m=mod, _plist=plist):
        out = _m(i["u"])
        grads = torch.autograd.grad(out, [i["u"]] + _plist, i["grad_out"], allow_unused=True)
        return out, dict(zip(["u"] + names, grads))
    return mod, fn, inp


# ---------------------------------------------------------------- profile (kernels stubbed)

class Launches:
    """Replaces JITFunction.run: records (kernel name, grid) and launches nothing."""

    def __init__(self):
        self.log = []
        self.on = False

    def install(self):
        from triton.runtime.jit import JITFunction

        rec = self

        def run(self, *args, grid, warmup, **kwargs):
            if rec.on:
                g = grid(kwargs) if callable(grid) else grid
                rec.log.append((self.fn.__name__, tuple(g)))
            return None
        JITFunction.run = run


class Meter:
    """Times host code without the aten ops' own kernels: a TorchDispatchMode sees
    every aten op below autograd (forward and backward), counts it and times the
    kernel it runs (on meta: shape functions, some of them slow Python reference
    code, none of it what a CUDA op costs); our sections (each autograd Function's
    forward and backward, the module's scan/conv/norm calls) are wrapped with a
    timer. outside = wall - inside the ops - ops x the mode's own cost per op
    (calibrated on torch.empty). All perf_counter; the best of several rounds."""

    def __init__(self, pkg_name):
        import importlib
        import time
        from collections import Counter

        from torch.utils._python_dispatch import TorchDispatchMode

        self.ops = Counter()
        self.inside = 0.0
        self.sec = {}  # name -> [wall, inside, ops]
        self.on = False
        meter = self

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                meter.ops[str(func.overloadpacket.__name__)] += 1
                t0 = time.perf_counter()
                out = func(*args, **(kwargs or {}))
                meter.inside += time.perf_counter() - t0
                return out
        self.Mode = Mode
        ag = importlib.import_module(pkg_name + ".autograd")
        module = importlib.import_module(pkg_name + ".module")

        def timed(name, f):
            def g(*a, **k):
                if not meter.on:
                    return f(*a, **k)
                i0, n0 = meter.inside, sum(meter.ops.values())
                t0 = time.perf_counter()
                try:
                    return f(*a, **k)
                finally:
                    w = time.perf_counter() - t0
                    acc = meter.sec.setdefault(name, [0.0, 0.0, 0])
                    acc[0] += w
                    acc[1] += meter.inside - i0
                    acc[2] += sum(meter.ops.values()) - n0
            return g
        for cls in (ag.SsdScanFunction, ag.CausalConv1dFunction, ag.RMSNormGatedFunction):
            for meth in ("forward", "backward"):
                setattr(cls, meth, staticmethod(timed(f"{cls.__name__}.{meth}", getattr(cls, meth))))
        for name in ("mamba_chunk_scan_combined", "causal_conv1d", "rmsnorm_gated"):
            if hasattr(module, name):
                setattr(module, name, timed(f"module -> {name} (the whole forward call)", getattr(module, name)))

    def reset(self):
        self.ops.clear()
        self.inside = 0.0
        self.sec = {}

    def mode_cost(self, n=20000):
        """The mode's own cost per op (s): torch.empty on meta with and without it."""
        import time

        best = []
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(n):
                torch.empty(4, device="meta")
            plain = time.perf_counter() - t0
            self.reset()
            with self.Mode():
                t0 = time.perf_counter()
                for _ in range(n):
                    torch.empty(4, device="meta")
                moded = time.perf_counter() - t0
            best.append((moded - self.inside - plain) / n)
        self.reset()
        return max(0.0, min(best))

    def run(self, fn, inp, calls, rounds=5):
        """(us per call: wall with the mode, inside the ops, outside; ops per call; sections)."""
        import time

        per_op = self.mode_cost()
        best = None
        for _ in range(rounds):
            self.reset()
            self.on = True
            with self.Mode():
                t0 = time.perf_counter()
                for _ in range(calls):
                    fn(inp)
                wall = time.perf_counter() - t0
            self.on = False
            n = sum(self.ops.values())
            r = {
                "wall": wall / calls * 1e6, "inside": self.inside / calls * 1e6,
                "outside": (wall - self.inside - n * per_op) / calls * 1e6,
                "sections": {k: (w - i - c * per_op) / calls * 1e6 for k, (w, i, c) in self.sec.items()},
            }
            if best is None:
                best = r
            else:
                best["outside"] = min(best["outside"], r["outside"])
                best["wall"] = min(best["wall"], r["wall"])
                best["inside"] = min(best["inside"], r["inside"])
                best["sections"] = {k: min(v, r["sections"][k]) for k, v in best["sections"].items()}
        best["mode_us_per_op"] = per_op * 1e6
        return best


def count_opcodes(fn, inp, roots):
    """Python bytecodes executed per call in files under `roots` (our host code:
    the generated package), by file: a count that a busy machine cannot change
    (sys.settrace with per-opcode events; code outside roots is not traced)."""
    from collections import Counter

    roots = tuple(str(r) for r in roots)
    counts = Counter()

    def local(frame, event, arg):
        if event == "opcode":
            counts[frame.f_code.co_filename] += 1
        return local

    def glob(frame, event, arg):
        if frame.f_code.co_filename.startswith(roots):
            frame.f_trace_opcodes = True
            return local
        return None
    sys.settrace(glob)
    try:
        fn(inp)
    finally:
        sys.settrace(None)
    return counts


def _short(f, pkg_root):
    p = Path(f)
    return str(p.relative_to(pkg_root)) if p.is_relative_to(pkg_root) else "triton/.../" + p.name


def profile(args):
    import cProfile
    import io
    import json
    import pstats
    import time
    from collections import Counter

    launches = Launches()
    launches.install()
    mod, fn, inp = build(ROOT / args.pkg, args.device, args.seed)
    meter = Meter(type(mod).__module__.rsplit(".", 1)[0])
    for _ in range(20):
        fn(inp)
    launches.on = True
    fn(inp)
    launches.on = False
    by_kernel = Counter(name for name, _ in launches.log)
    grids = {}
    for name, grid in launches.log:
        grids.setdefault(name, []).append(grid)
    meter.reset()
    with meter.Mode():
        fn(inp)
    aten = Counter(meter.ops)
    n_aten = sum(aten.values())

    import triton

    pkg_root = Path(sys.modules[type(mod).__module__].__file__).resolve().parent
    # our package, and Triton's Python (its JIT call path: e.g. triton.cdiv; the stubbed launches run none of it)
    tdir = Path(triton.__file__).parent  # as the code objects name it (a venv may be a symlink)
    ops_by_file = count_opcodes(fn, inp, [pkg_root, tdir, tdir.resolve()])
    n_opcodes = sum(ops_by_file.values())

    t = []
    for _ in range(5):  # plain wall time, no mode (meta kernels included)
        t0 = time.perf_counter()
        for _ in range(args.calls):
            fn(inp)
        t.append((time.perf_counter() - t0) / args.calls * 1e6)
    m = meter.run(fn, inp, args.calls)
    outside = m["outside"]

    pr = cProfile.Profile()
    pr.enable()
    for _ in range(args.calls):
        fn(inp)
    pr.disable()
    s = io.StringIO()
    pstats.Stats(pr, stream=s).sort_stats("cumulative").print_stats(30)

    n_launch = len(launches.log)
    py = tuple(n_opcodes * ns / 1e3 for ns in BYTECODE_NS)
    est = tuple(p + n_launch * lt + n_aten * at for p, lt, at in zip(py, TRITON_LAUNCH_US, ATEN_OP_US))
    print(f"== {args.pkg}: block fwd+bwd at ({BATCH}, {SEQLEN}), bf16, tensors on {args.device}, kernels stubbed")
    print(f"Triton launches per fwd+bwd: {n_launch}")
    for name, k in by_kernel.most_common():
        print(f"  {k:3d}  {name:40s} grids {grids[name]}")
    print(f"aten ops per fwd+bwd: {n_aten}")
    for name, k in aten.most_common():
        print(f"  {k:3d}  {name}")
    print(f"Python bytecodes executed per fwd+bwd in {pkg_root.name}/ and triton/ (deterministic): {n_opcodes}")
    for f, k in ops_by_file.most_common():
        print(f"  {k:6d}  {_short(f, pkg_root)}")
    print(f"wall per fwd+bwd on {args.device}: {min(t):.0f} us (best of 5 x {args.calls} calls; rounds "
          f"{', '.join(f'{v:.0f}' for v in t)}), most of it {args.device}'s own op kernels")
    print(f"host time outside the aten ops: {outside:.0f} us per fwd+bwd (Python, torch frontend, autograd; "
          f"best of 5 x {args.calls}; mode cost {m['mode_us_per_op']:.1f} us/op taken off; NOISY on a busy machine)")
    print(f"GPU host estimate (NOT measured): {n_opcodes} bytecodes x {BYTECODE_NS[0]:.0f}-{BYTECODE_NS[1]:.0f} ns "
          f"= {py[0]:.0f}-{py[1]:.0f} us + {n_launch} launches x {TRITON_LAUNCH_US[0]:.0f}-"
          f"{TRITON_LAUNCH_US[1]:.0f} us + {n_aten} aten ops x {ATEN_OP_US[0]:.0f}-{ATEN_OP_US[1]:.0f} us "
          f"= {est[0] / 1e3:.2f}-{est[1] / 1e3:.2f} ms (measured on the H200, call15: 3.835 ms)")
    print("  of it, our host code outside the aten ops (us per fwd+bwd; stubbed launches cost ~0):")
    for k, v in sorted(m["sections"].items()):
        print(f"  {v:7.1f}  {k}")
    print("-- cProfile, top 30 by cumulative time, over", args.calls, "calls")
    print(s.getvalue())
    if args.json:
        Path(args.json).write_text(json.dumps({
            "pkg": args.pkg, "device": args.device, "shape": [BATCH, SEQLEN],
            "launches": n_launch, "launches_by_kernel": dict(by_kernel),
            "grids": {k: [list(g) for g in v] for k, v in grids.items()},
            "aten_ops": n_aten, "aten_by_op": dict(aten), "wall_us_rounds": t,
            "opcodes": n_opcodes, "opcodes_by_file": {_short(f, pkg_root): k for f, k in ops_by_file.items()},
            "outside_us": outside, "sections_us": m["sections"], "mode_us_per_op": m["mode_us_per_op"],
            "gpu_host_estimate_ms": [e / 1e3 for e in est],
            "estimate_units_us": {"triton_launch": TRITON_LAUNCH_US, "aten_op": ATEN_OP_US,
                                   "bytecode": [v / 1e3 for v in BYTECODE_NS]},
        }, indent=1))


# ---------------------------------------------------------------- on the GPU (real kernels)

def cuda_profile(args):
    """Host and wall time per fwd+bwd with the real kernels on CUDA, and what
    each Triton launch costs the host (JITFunction.run wrapped with a timer)."""
    import json
    import time
    from collections import defaultdict

    from triton.runtime.jit import JITFunction

    _, fn, inp = build(ROOT / args.pkg, "cuda", args.seed)
    orig = JITFunction.run
    per = defaultdict(lambda: [0, 0.0])
    timing = [False]

    def run(self, *a, **k):
        if not timing[0]:
            return orig(self, *a, **k)
        t0 = time.perf_counter()
        try:
            return orig(self, *a, **k)
        finally:
            acc = per[self.fn.__name__]
            acc[0] += 1
            acc[1] += time.perf_counter() - t0
    JITFunction.run = run
    for _ in range(30):
        fn(inp)
    torch.cuda.synchronize()
    res = {}
    for label, calls in (("host", args.calls),):
        best_host = best_wall = float("inf")
        for _ in range(5):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(calls):
                fn(inp)
            t1 = time.perf_counter()
            torch.cuda.synchronize()
            t2 = time.perf_counter()
            best_host = min(best_host, (t1 - t0) / calls * 1e6)
            best_wall = min(best_wall, (t2 - t0) / calls * 1e6)
        res["host_us_per_call"] = best_host
        res["wall_us_per_call"] = best_wall
    timing[0] = True
    for _ in range(args.calls):
        fn(inp)
    torch.cuda.synchronize()
    timing[0] = False
    res["launch_us"] = {k: v[1] / v[0] * 1e6 for k, v in per.items()}
    res["launches_per_call"] = {k: v[0] / args.calls for k, v in per.items()}
    res["launch_host_us_per_call"] = sum(v[1] for v in per.values()) / args.calls * 1e6
    if args.json:  # written now and again at the end: a failed graph capture keeps these
        Path(args.json).write_text(json.dumps(res, indent=1))
    from torch.profiler import ProfilerActivity, profile as tprofile

    with tprofile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(20):
            fn(inp)
        torch.cuda.synchronize()
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=40)
    if args.prof_out:
        Path(args.prof_out).write_text(table)
    print(table[:6000])
    # last (a failed capture may leave the context unusable): device time alone,
    # the fwd+bwd captured in a CUDA graph and replayed
    try:
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                fn(inp)
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            fn(inp)
        for _ in range(10):
            g.replay()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(args.calls):
            g.replay()
        torch.cuda.synchronize()
        res["graph_replay_us_per_call"] = (time.perf_counter() - t0) / args.calls * 1e6
    except Exception as e:  # recorded, not fatal
        res["graph_error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(res, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))


# ---------------------------------------------------------------- equality check (real kernels, interpreter)

def check(args):
    _, fn, inp = build(ROOT / args.pkg, "cpu", args.seed)
    out, grads = fn(inp)
    res = {"out": out.detach(), **{f"grad:{k}": (None if v is None else v.detach()) for k, v in grads.items()}}
    if args.save:
        torch.save(res, args.save)
        print(f"saved out and {len(grads)} gradients to {args.save}")
        return 0
    ref = torch.load(args.compare)
    bad = []
    for k in sorted(set(ref) | set(res)):
        a, b = ref.get(k), res.get(k)
        same = (a is None and b is None) or (
            a is not None and b is not None and a.dtype == b.dtype and a.shape == b.shape
            and torch.equal(torch.isnan(a), torch.isnan(b)) and torch.equal(torch.nan_to_num(a), torch.nan_to_num(b)))
        print(f"  {'equal' if same else 'DIFFERENT':9s} {k}" + ("" if a is None else f" {tuple(a.shape)} {a.dtype}"))
        if not same:
            bad.append(k)
    print(f"{len(res) - len(bad)}/{len(res)} bit-identical to {args.compare}")
    return 1 if bad else 0


if __name__ == "__main__":
    if ARGS.save or ARGS.compare:
        sys.exit(check(ARGS))
    cuda_profile(ARGS) if ARGS.cuda else profile(ARGS)
