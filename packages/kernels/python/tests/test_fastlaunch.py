"""Prepared launches (mamba2_kernels/kernels/fastlaunch.py) against Triton 3.6's own JITFunction.run, on CPU.

Triton's real run() runs through a fake CUDA driver (sm_90 target: Triton builds its real CUDA binder),
with a stub compile that files a fake CompiledKernel under the exact key run() computed; the kernel's
launcher records what it is called with. Every call is made twice, on a plain JITFunction and on a
prepared copy of the same function: both must launch the kernel filed under the same key with the
same arguments (the same objects), and the prepared copy must have taken its fast path (the launcher
got launch metadata None) exactly when the key was prepared before. No GPU, no compile, a few seconds.
"""
from __future__ import annotations

import os
import random
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import torch

triton = pytest.importorskip("triton")
if not triton.__version__.startswith("3.6."):
    pytest.skip("prepared launches exist for Triton 3.6 only", allow_module_level=True)

import triton.language as tl  # noqa: E402
from triton import knobs  # noqa: E402
from triton.backends.compiler import GPUTarget  # noqa: E402
from triton.compiler.compiler import CompiledKernel  # noqa: E402
from triton.runtime.driver import driver  # noqa: E402
from triton.runtime.jit import JITFunction  # noqa: E402

from mamba2_kernels.kernels import fastlaunch  # noqa: E402

LIB = Path(fastlaunch.__file__).resolve().parents[1]
GLOBAL_C = tl.constexpr(7)


def _frag_a(v):
    return v


def _frag_b(v):
    return v + 1


def _k_all(X, Y, n, m, flag, scale, opt_ptr, tup, nds, k64: tl.int64, f32a: tl.float32, BLOCK: tl.constexpr,
           HAS: tl.constexpr, NAME: tl.constexpr, DT: tl.constexpr, FRAG: tl.constexpr, FC: tl.constexpr = 0,
           TC: tl.constexpr = None, DEF: tl.constexpr = 4, y_def=None):
    pass


def _k_glob(X, N, B: tl.constexpr):
    tl.static_assert(GLOBAL_C > 0)


class FakeDriver:
    """What run() asks the active driver: device, stream, target."""

    def __init__(self):
        self.device, self.stream = 0, 5000

    def get_current_device(self):
        return self.device

    def get_current_stream(self, device):
        return self.stream + device

    def get_current_target(self):
        return GPUTarget("cuda", 90, 32)


class Launcher:
    """Stands for the compiled kernel's C launcher: records (key, its arguments)."""

    def __init__(self, log, key):
        self.log, self.key = log, key

    def __call__(self, *args):
        self.log.append((self.key, args))


def _stub(jf, log):
    """run()'s compile files a fake CompiledKernel under run()'s key; returns the list of compiled keys."""
    compiled = []

    def do_compile(key, signature, device, constexprs, options, attrs, warmup):
        k = CompiledKernel.__new__(CompiledKernel)
        k.module, k.function, k._run = object(), zlib.crc32(key.encode()), Launcher(log, key)
        k.packed_metadata, k.name, k.src = (options.num_warps, 1, 0), jf.fn.__name__, None
        jf.device_caches[device][0][key] = k
        jf.cache_key  # noqa: B018  (fills used_global_vals, as the real compile does)
        compiled.append(key)
        return k
    jf._do_compile = do_compile
    return compiled


class Pair:
    """The same Python function as a plain JITFunction and as a prepared one, each with a stub compile."""

    def __init__(self, fn, **jit_kw):
        self.plain_log, self.prep_log = [], []
        self.plain = JITFunction(fn, **jit_kw)
        self.prep = fastlaunch.fast_launch(JITFunction(fn, **jit_kw))
        assert type(self.prep) is fastlaunch.PreparedJITFunction
        self.plain_compiled = _stub(self.plain, self.plain_log)
        self.prep_compiled = _stub(self.prep, self.prep_log)

    def call(self, grid, args, kwargs):
        """Both launches; asserts they agree; returns whether the prepared one took the fast path."""
        self.plain[grid](*args, **kwargs)
        self.prep[grid](*args, **kwargs)
        (pkey, pa), (qkey, qa) = self.plain_log[-1], self.prep_log[-1]
        assert qkey == pkey, "the prepared path launched a kernel filed under another key than run() did"
        assert qa[:6] == pa[:6], f"grid / stream / function / metadata differ: {qa[:6]} vs {pa[:6]}"
        assert len(qa) == len(pa) and all(a is b for a, b in zip(qa[9:], pa[9:])), \
            "the launcher got other argument objects than run() passes"
        assert pa[7] is knobs.runtime.launch_enter_hook and pa[8] is knobs.runtime.launch_exit_hook
        fast = qa[6] is None
        if fast:  # what run() passes there is only seen by the hooks, which must be empty
            assert qa[7] is None and qa[8] is None
            assert not knobs.runtime.launch_enter_hook.calls and not knobs.runtime.launch_exit_hook.calls
        else:
            assert qa[6:9] == (qa[6], knobs.runtime.launch_enter_hook, knobs.runtime.launch_exit_hook)
        assert len(self.prep_compiled) == len(self.plain_compiled), "the prepared copy compiled differently"
        return fast


@pytest.fixture
def fake(monkeypatch):
    """A fake sm_90 driver, prepared launches on, clean debug / instrumentation knobs."""
    d = FakeDriver()
    monkeypatch.setattr(driver, "_active", d)
    monkeypatch.setattr(fastlaunch, "ENABLED_AT_IMPORT", True)
    monkeypatch.setattr(fastlaunch, "_on", [True])
    monkeypatch.setattr(knobs.runtime, "debug", False)
    monkeypatch.setattr(knobs.compilation, "instrumentation_mode", "")
    return d


def _base():
    t = torch.empty(64, dtype=torch.bfloat16)
    y = torch.empty(64, dtype=torch.float32)
    frag_a = JITFunction(_frag_a)
    frag_b = JITFunction(_frag_b)
    args = (t, y, 32, 17, True, 0.5, None, (3, y), 5)
    kw = dict(k64=40, f32a=3.0, BLOCK=64, HAS=True, NAME="silu", DT=tl.bfloat16, FRAG=frag_a, num_warps=4)
    return t, y, frag_a, frag_b, args, kw


def _variants():
    """(name, args, kwargs, run_only): the base call and one change of each argument kind."""
    t, y, frag_a, frag_b, args, kw = _base()
    buf = torch.empty(80, dtype=torch.bfloat16)
    half = torch.empty(64, dtype=torch.float16)
    prm = torch.nn.Parameter(torch.empty(64, dtype=torch.bfloat16))

    def a(i, v):
        return args[:i] + (v,) + args[i + 1:]
    out = [("base", args, kw, False)]
    out += [(f"X {n}", a(0, v), kw, False) for n, v in
            [("misaligned", buf[1:65]), ("aligned view", buf[8:72]), ("fp16", half), ("Parameter", prm)]]
    out += [("Y alignment not specialized", a(1, torch.empty(80)[1:65]), kw, False)]
    out += [(f"n={v}", a(2, v), kw, False) for v in (1, 16, 48, 17, -32, 2**31 - 1, 2**31, 2**40, 2**63, True, 2.0)]
    out += [(f"m={v}", a(3, v), kw, False) for v in (1, 18, 32)]
    out += [(f"flag={v!r}", a(4, v), kw, False) for v in (False, 1)]
    out += [(f"scale={v!r}", a(5, v), kw, False) for v in (2.5, 1, -0.0)]
    out += [("opt_ptr tensor", a(6, y), kw, False), ("opt_ptr misaligned", a(6, torch.empty(80)[1:65]), kw, False)]
    out += [(f"tup {n}", a(7, v), kw, False) for n, v in
            [("(1, y)", (1, y)), ("(16, t)", (16, t)), ("(3, misaligned)", (3, buf[1:65])), ("(3, 4)", (3, 4))]]
    out += [(f"nds={v}", a(8, v), kw, False) for v in (1, 16, 2**40)]
    cx = [("k64", 1), ("k64", 2**40), ("f32a", 3), ("BLOCK", 128), ("HAS", False), ("HAS", 1), ("NAME", "relu"),
          ("DT", tl.float16), ("FRAG", frag_b), ("FRAG", JITFunction(_frag_a)), ("DEF", 4), ("DEF", 8),
          ("y_def", y), ("num_warps", 8)]
    out += [(f"{k}={v!r}", args, dict(kw, **{k: v}), False) for k, v in cx]
    out += [("num_stages after num_warps", args, dict(kw, num_stages=2), False)]
    out += [("num_stages before num_warps", args, dict(dict(num_stages=2), **kw), False)]
    out += [("all by keyword", (), dict(zip("X Y n m flag scale opt_ptr tup nds".split(), args), **kw), False)]
    out += [("all positional", args + (40, 3.0, 64, True, "silu", tl.bfloat16, frag_a), {"num_warps": 4}, False)]
    # constexprs whose == is not their str: always run()
    out += [(f"FC={v!r}", args, dict(kw, FC=v), True) for v in (0.5, 0.0, -0.0)]
    out += [(f"TC={v!r}", args, dict(kw, TC=v), True) for v in ((1, 2), (True, 2))]
    return out


def test_the_prepared_path_launches_the_kernel_run_picks_with_the_same_arguments_for_every_argument_kind(fake):
    p = Pair(_k_all, do_not_specialize=["nds"], do_not_specialize_on_alignment=["Y"])
    variants = _variants()
    calls = [v for v in variants for _ in range(3)]
    random.Random(int(os.environ.get("MAMBA2_SEED", "0"))).shuffle(calls)
    seen, fast_n, distinct = set(), 0, set()
    for name, args, kw, run_only in calls:
        fast = p.call((4, 2), args, kw)
        # Triton's own key cache is looked up by Python equality (HAS=1 finds HAS=True's kernel) and keys a
        # fragment by its source hash; the prepared key is by type and identity, so those two are told
        # apart here (their first call goes through run(), which picks the kernel)
        bound = dict(zip(p.plain.arg_names, p.plain_log[-1][1][9:]))
        key = (p.plain_log[-1][0], type(bound["HAS"]), id(bound["FRAG"]))
        assert fast == (key in seen and not run_only), f"{name}: fast path {fast}, key seen before {key in seen}"
        if not run_only:
            seen.add(key)
        fast_n += fast
        distinct.add(key[0])
    assert fast_n >= len(variants), "the fast path was hardly taken"
    # most variants are other specializations (each kind is checked for a miss; the rest share one)
    assert len(distinct) >= 30, len(distinct)


def test_a_changed_specialization_misses_the_prepared_kernel_and_goes_through_run(fake):
    p = Pair(_k_glob)
    buf = torch.empty(80, dtype=torch.bfloat16)
    base = (buf[:64], 32)
    assert not p.call((1,), base, {"B": 16})  # first call: run()
    assert p.call((1,), (buf[8:72], 48), {"B": 16})  # same specialization: prepared
    for changed in [(buf[1:65], 32), (buf[:64], 1), (buf[:64], 17), (buf[:64].half(), 32), (buf[:64], 2**33)]:
        n = len(p.plain_compiled)
        assert not p.call((1,), changed, {"B": 16}), f"{changed[1]}: a changed specialization hit"
        assert len(p.plain_compiled) == n + 1
        assert p.call((1,), changed, {"B": 16})
    assert p.call((1,), base, {"B": 16})
    assert not p.call((1,), base, {"B": 32})


def test_grid_stream_and_device_are_those_run_would_use(fake):
    p = Pair(_k_glob)
    t = torch.empty(64)
    p.call((3, 2, 5), (t, 32), {"B": 16})
    assert p.call((7,), (t, 32), {"B": 16})
    assert p.prep_log[-1][1][:4] == (7, 1, 1, 5000)
    fake.stream = 6000
    assert p.call([2, 9], (t, 32), {"B": 16})
    assert p.prep_log[-1][1][:4] == (2, 9, 1, 6000)
    fake.device = 1  # another device: its own binder and cache, first call through run()
    assert not p.call((1,), (t, 32), {"B": 16})
    assert p.call((1,), (t, 32), {"B": 16}) and p.prep_log[-1][1][3] == 6001
    p.plain.device_caches.clear()
    p.prep.device_caches.clear()  # Triton's caches replaced: the prepared kernels go with them
    assert not p.call((1,), (t, 32), {"B": 16})
    assert p.call((1,), (t, 32), {"B": 16})


def test_hooks_debug_patched_run_callable_grids_and_the_switch_fall_back_to_run(fake, monkeypatch):
    p = Pair(_k_glob)
    t = torch.empty(64)
    args, kw = (t, 32), {"B": 16}
    p.call((1,), args, kw)
    assert p.call((1,), args, kw)

    def hook(meta):
        pass
    knobs.runtime.launch_enter_hook.add(hook)
    try:
        assert not p.call((1,), args, kw)
    finally:
        knobs.runtime.launch_enter_hook.remove(hook)
    knobs.runtime.launch_exit_hook.add(hook)
    try:
        assert not p.call((1,), args, kw)
    finally:
        knobs.runtime.launch_exit_hook.remove(hook)
    assert p.call((1,), args, kw)

    seen = []
    p.prep.add_pre_run_hook(lambda *a, **k: seen.append((a, k)))
    p.prep[(1,)](*args, **kw)
    assert len(seen) == 1 and seen[0][0] == args and seen[0][1]["B"] == 16 and p.prep_log[-1][1][6] is not None
    p.prep.pre_run_hooks.clear()

    real = JITFunction.run
    calls = []

    def patched(self, *a, **k):
        calls.append(self)
        return real(self, *a, **k)
    monkeypatch.setattr(JITFunction, "run", patched)
    assert not p.call((1,), args, kw) and calls[-1] is p.prep
    monkeypatch.setattr(JITFunction, "run", real)

    n = len(p.plain_compiled)
    monkeypatch.setattr(knobs.runtime, "debug", True)  # a new key (debug=True), through run() every time
    assert not p.call((1,), args, kw) and not p.call((1,), args, kw)
    assert len(p.plain_compiled) == n + 1
    monkeypatch.setattr(knobs.runtime, "debug", False)
    assert not p.call((1,), args, dict(kw, debug=False)) and not p.call((1,), args, dict(kw, debug=False))
    monkeypatch.setattr(knobs.compilation, "instrumentation_mode", "fpsan")
    assert not p.call((1,), args, kw) and not p.call((1,), args, kw)
    monkeypatch.setattr(knobs.compilation, "instrumentation_mode", "")
    assert p.call((1,), args, kw)

    grids = []
    assert not p.call(lambda meta: grids.append(meta) or (2,), args, kw)
    assert p.prep_log[-1][1][0] == 2 and grids[-1]["N"] == 32

    fastlaunch.set_enabled(False)
    assert not p.call((1,), args, kw)
    fastlaunch.set_enabled(True)
    assert p.call((1,), args, kw)


def test_a_changed_global_raises_as_run_does_and_a_changed_fragment_recompiles(fake, monkeypatch):
    p = Pair(_k_glob)
    t = torch.empty(64)
    p.call((1,), (t, 32), {"B": 16})
    assert p.call((1,), (t, 32), {"B": 16})
    monkeypatch.setitem(globals(), "GLOBAL_C", tl.constexpr(8))
    for jf in (p.plain, p.prep):
        with pytest.raises(RuntimeError, match="Global variable GLOBAL_C has changed"):
            jf[(1,)](t, 32, B=16)
    monkeypatch.setitem(globals(), "GLOBAL_C", GLOBAL_C)

    q = Pair(_k_all)
    _, _, frag_a, _, args, kw = _base()
    q.call((1,), args, kw)
    assert q.call((1,), args, kw)
    frag_a._unsafe_update_src(frag_a.src.replace("return v", "return v * 2"))
    n = len(q.plain_compiled)
    assert not q.call((1,), args, kw), "a fragment with new source kept its old kernel"
    assert len(q.plain_compiled) == n + 1
    assert q.call((1,), args, kw)


def test_what_is_not_a_compiled_jit_function_is_returned_unchanged(monkeypatch):
    from triton.runtime.interpreter import InterpretedFunction

    interp = InterpretedFunction(_k_glob)
    assert fastlaunch.fast_launch(interp) is interp and type(interp) is InterpretedFunction
    assert fastlaunch.fast_launch(_k_glob) is _k_glob
    monkeypatch.setattr(fastlaunch, "ENABLED_AT_IMPORT", False)
    jf = JITFunction(_k_glob)
    assert fastlaunch.fast_launch(jf) is jf and type(jf) is JITFunction
    monkeypatch.setattr(fastlaunch, "ENABLED_AT_IMPORT", True)
    monkeypatch.setattr(fastlaunch, "SUPPORTED", False)
    assert fastlaunch.fast_launch(jf) is jf and type(jf) is JITFunction


def test_mamba2_fast_launch_0_turns_it_off_at_import(tmp_path):
    (tmp_path / "probe.py").write_text("def k(X, N):\n    pass\n")
    code = ("import importlib.util, sys\n"
            f"sys.path.insert(0, {str(tmp_path)!r})\n"
            f"spec = importlib.util.spec_from_file_location('fastlaunch', {str(LIB / 'kernels' / 'fastlaunch.py')!r})\n"
            "fl = importlib.util.module_from_spec(spec)\n"
            "spec.loader.exec_module(fl)\n"
            "from triton.runtime.jit import JITFunction\n"
            "import probe\n"
            "jf = JITFunction(probe.k)\n"
            "assert fl.fast_launch(jf) is jf\n"
            "print(fl.ENABLED_AT_IMPORT, type(jf).__name__)\n")
    out = {}
    for v in ("0", "1"):
        r = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, MAMBA2_FAST_LAUNCH=v),
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
        out[v] = r.stdout.split()
    assert out == {"0": ["False", "JITFunction"], "1": ["True", "PreparedJITFunction"]}


def test_the_seed_blocks_real_launches_take_the_prepared_path_with_runs_arguments(monkeypatch):
    """The generated seed block (kernels-out/mamba2_simple, imported in compiled mode under an alias)
    runs fwd+bwd on `meta` with run() recording; then each recorded launch goes through run() and
    through its prepared path (scripts/launch_cost.py check): the same kernel and argument objects."""
    root = LIB.parents[3]
    monkeypatch.syspath_prepend(str(root / "scripts"))
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)  # the compiled path's JITFunctions and host code
    import launch_cost
    from mamba2_runner.bench.providers import ir_d_model, make_generated_module
    from mamba2_runner.pkgload import load_generated, load_ir

    pkg_dir = root / "kernels-out" / "mamba2_simple"
    pkg = load_generated(pkg_dir, alias="_fastlaunch_seed_block")
    ir = load_ir(pkg_dir)
    mod = make_generated_module(pkg, ir, "cpu").to("meta")
    u = torch.randn(2, 128, ir_d_model(ir), device="meta", dtype=torch.bfloat16).requires_grad_()
    log = []
    monkeypatch.setattr(JITFunction, "run", lambda self, *a, grid, warmup, **k: log.append((self, a, dict(k), grid)))
    torch.autograd.grad(mod(u), [u] + list(mod.parameters()), torch.randn_like(u), allow_unused=True)
    monkeypatch.undo()
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    monkeypatch.setattr(driver, "_active", None)  # install() sets its fake driver; restored after
    monkeypatch.setattr(JITFunction, "_do_compile", lambda self, *a, **k: pytest.fail(f"{self} compiled"))
    assert len(log) >= 8 and all(type(jf) is not JITFunction for jf, *_ in log), "the block's kernels are not prepared"
    assert launch_cost.check(log) == 0, "a prepared launch differs from run() (see the printed table)"


def test_every_kernel_the_library_launches_is_prepared():
    """Every @triton.jit def *_kernel in the library carries @fast_launch (the line above it)."""
    missing = []
    for f in sorted(LIB.rglob("*.py")):
        lines = f.read_text().splitlines()
        for i, line in enumerate(lines):
            if line.startswith("@triton.jit") and i + 1 < len(lines) and lines[i + 1].startswith("def ") \
                    and lines[i + 1].split("(")[0].endswith("_kernel"):
                if i == 0 or lines[i - 1].strip() != "@fast_launch":
                    missing.append(f"{f.relative_to(LIB)}:{i + 2} {lines[i + 1].split('(')[0][4:]}")
    assert not missing, "kernels launched from the host without @fast_launch above @triton.jit: " + ", ".join(missing)
