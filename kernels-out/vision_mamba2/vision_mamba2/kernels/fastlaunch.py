# generated from examples/vision-mamba2.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 973d21e2cf8d81c0e01a13580d2634dea1d19fba039c3bddcd8ee47c7c19c7c4
# copied from packages/kernels/python/mamba2_kernels/kernels/fastlaunch.py
"""Prepared launches: `kernel[grid](...)` through most of Triton's JITFunction.run only once per specialization.

At tiny shapes a launch is host time: Triton 3.6's JITFunction.run binds the
arguments into a dict, builds the specialization list, formats the cache key
(str of the options), looks it up, checks the used globals, builds launch
metadata for the (empty) launch hooks and only then calls the compiled
kernel's launcher (NOTES.md "Triton launch host cost": ~1500 of the seed
block's ~1960 kIr per fwd+bwd is that bookkeeping).

`@fast_launch` above `@triton.jit` keeps the JITFunction (same object, same
attributes, isinstance JITFunction) but gives it a `[grid]` whose call:
  1. computes the specialization with Triton's own native_specialize_impl over
     the same arguments, with the same flags, in the same order as the binder
     Triton generates (create_function_from_signature): tensors (dtype,
     alignment 16), ints (==1, %16, i32 / i64 / u64 range), None, bool, float,
     tuples, do_not_specialize(_on_alignment), annotations; constexprs by
     value plus the tuple of their types (JITFunction fragments hash by their
     source hash and compare by identity; their hash is checked again on a
     hit); options (num_warps, num_stages, maxnreg, ...) by (name, value) in
     call order plus their types;
  2. looks that key up in a per-device dict of prepared kernels. A hit calls
     the CompiledKernel's launcher directly with what run() would pass: the
     same grid, the current device's current stream, function, packed
     metadata and every argument value in parameter order (launch metadata
     and hooks None: identical to run()'s empty hook chains);
  3. a miss goes through the real run() (compiles, caches, launches). Its
     kernel is then prepared only after a check against Triton itself: the
     binder + compute_cache_key of this very call must name that kernel in
     run()'s cache and bind the same argument objects; constexpr and option
     values must be of a type whose equality is its str (int, bool, str,
     None, tl.dtype, JIT functions); floats and tuples as constexprs stay on
     run().
So a key equal to a prepared one implies Triton's key is equal too, and the
first call of every specialization is run()'s.

Everything else falls back to run() (the call is exactly Triton's):
  - not applied at all: MAMBA2_FAST_LAUNCH=0 (read at import), Triton other
    than 3.6.x, anything that is not exactly a JITFunction (the interpreter's
    InterpretedFunction under TRITON_INTERPRET=1, autotuners);
  - per call: set_enabled(False); a callable grid; JITFunction.run patched
    (profilers, scripts/host_profile.py, launch_cost.py); pre-run hooks;
    launch enter/exit hooks (knobs.runtime.launch_enter_hook / _exit_hook,
    e.g. a profiler) or anything but empty HookChains / None there; debug
    (the kernel's, TRITON_DEBUG / knobs.runtime.debug, or a debug= keyword);
    an instrumentation mode; an instrumentation_mode= keyword; a device whose
    Triton caches were replaced; a fragment whose source hash changed; a used
    global that is not the same object as at compile time (run() then raises
    as usual); arguments the binder signature refuses; unhashable values.
CUDA-graph capture needs nothing: run() does nothing different under capture,
and the prepared path calls the same launcher on the same current stream.
"""
from __future__ import annotations

import os

import triton

ENV_SWITCH = "MAMBA2_FAST_LAUNCH"
ENABLED_AT_IMPORT = os.environ.get(ENV_SWITCH, "1") != "0"
SUPPORTED = triton.__version__.startswith("3.6.")

try:  # Triton 3.6 internals; another version only ever sees the identity decorator
    from triton import knobs as _knobs
    from triton.compiler.compiler import CompiledKernel as _CompiledKernel
    from triton.knobs import HookChain as _HookChain
    from triton.language.core import dtype as _tl_dtype
    from triton.runtime.driver import driver as _driver
    from triton.runtime.jit import JITCallable as _JITCallable
    from triton.runtime.jit import JITFunction as _JF
    from triton.runtime.jit import compute_cache_key as _compute_cache_key
    from triton.runtime.jit import native_specialize_impl as _specialize
except ImportError:  # pragma: no cover
    SUPPORTED = False

_on = [ENABLED_AT_IMPORT]
_MISSING = object()
_SAFE = (int, bool, str, type(None))  # types whose == is their str (Triton keys on str)


def set_enabled(on: bool) -> None:
    """Turn prepared launches on or off at runtime (off: every call is Triton's run())."""
    _on[0] = bool(on)


def enabled() -> bool:
    return _on[0]


def fast_launch(fn):
    """Decorator over @triton.jit: the kernel's [grid](...) takes the prepared path (module docstring).
    Returns `fn` unchanged where that does not apply."""
    if not (ENABLED_AT_IMPORT and SUPPORTED) or type(fn) is not _JF:
        return fn
    names = [p.name for p in fn.params]
    if any(n.startswith("_m2_") for n in names) or len(set(names)) != len(names):
        return fn
    fn.__class__ = PreparedJITFunction
    fn._m2_dev = {}  # device -> _Device
    return fn


_RUN = [None]  # Triton's own JITFunction.run, once seen (it may be patched when this module is imported)


def _run_is_triton():
    run = _JF.run
    if getattr(run, "__module__", None) == "triton.runtime.jit" and getattr(run, "__qualname__", None) == "JITFunction.run":
        _RUN[0] = run
        return True
    return False


if SUPPORTED:

    class PreparedJITFunction(_JF):
        """A JITFunction whose kernel[grid](...) launches prepared kernels (fastlaunch module docstring)."""

        def __getitem__(self, grid):
            if not _on[0] or callable(grid):
                return _JF.__getitem__(self, grid)
            return lambda *args, **kwargs: _launch(self, grid, args, kwargs)


class _Device:
    """One device's prepared kernels of one JITFunction: valid while the JITFunction's
    device_caches entry (binder, kernel cache) is the same object."""
    __slots__ = ("caches", "keyfn", "entries")

    def __init__(self, jf, caches):
        self.caches = caches
        self.keyfn = _make_keyfn(jf, caches[3])
        self.entries = {}


def _make_keyfn(jf, backend):
    """keyfn(*args, **kwargs) -> (values, key, options): the binder's signature; values = every
    parameter's value in order (what run() passes to the launcher), key = the specialization."""
    sig = jf.signature
    parts, cexprs, defaults = [], [], {}
    for kp, (name, param) in zip(jf.params, sig.parameters.items()):
        if param.default is not param.empty:
            defaults[f"_m2_d_{name}"] = param.default
        if kp.is_constexpr:
            parts.append(name)
            cexprs.append(name)
            continue
        flags = f"{kp.is_const}, {not kp.do_not_specialize}, {not kp.do_not_specialize_on_alignment}"
        ann = kp.annotation_type
        if ann and isinstance(ann, str) and (ann == "u1" or ann[:2] in ("fp", "bf")):
            continue  # Triton's spec is the constant (ann, None)
        parts.append(f"_m2_sp(_m2_be, {name}, {flags})")
    arg = ", ".join([n if p.default is p.empty else f"{n}=_m2_d_{n}" for n, p in sig.parameters.items()]
                    + ["**_m2_opts"])
    if cexprs:  # constexprs by value and, in one tuple, their types (1 == True, but not as a key for Triton)
        parts.append(f"_m2_tuple(_m2_map(_m2_type, ({', '.join(cexprs)},)))")
    src = (f"def _m2_keyfn({arg}):\n"
           f"    return ({', '.join(sig.parameters)},), ({', '.join(parts)},), _m2_opts\n")
    ns = dict(defaults, _m2_sp=_specialize, _m2_be=backend, _m2_type=type, _m2_tuple=tuple, _m2_map=map)
    exec(compile(src, f"<fastlaunch {jf.fn.__name__}>", "exec"), ns)  # noqa: S102
    return ns["_m2_keyfn"]


def _entry_key(spec, opts):
    """The prepared-kernel key of one call: the specialization and the options by (name, value) in
    call order plus their types (1 == True, but not as a key for Triton)."""
    return spec, tuple(opts.items()), tuple(map(type, opts.values()))


def _launch(jf, grid, args, kwargs):
    rt = _knobs.runtime
    mode = _knobs.compilation.instrumentation_mode
    enter, exit_ = rt.launch_enter_hook, rt.launch_exit_hook
    if ((_JF.run is not _RUN[0] and not _run_is_triton()) or jf.pre_run_hooks or (jf.debug or rt.debug) is not False
            or mode.__class__ is not str or mode
            or (enter is not None and (enter.__class__ is not _HookChain or enter.calls))
            or (exit_ is not None and (exit_.__class__ is not _HookChain or exit_.calls))):
        return jf.run(*args, grid=grid, warmup=False, **kwargs)
    drv = _driver._active or _driver.active
    device = drv.get_current_device()
    stream = drv.get_current_stream(device)
    dev = jf._m2_dev.get(device)
    if dev is None or dev.caches is not jf.device_caches.get(device):
        return _miss(jf, grid, args, kwargs, device)
    try:
        vals, spec, opts = dev.keyfn(*args, **kwargs)
        e = dev.entries.get(_entry_key(spec, opts))
    except Exception:  # noqa: BLE001  (the binder's signature or specialization refused it: run() says why)
        e = None
    if e is None:
        return _miss(jf, grid, args, kwargs, device)
    run, function, packed, frags, ugv, globs, kernel = e
    for f, h in frags:
        if f.hash is not h:  # a fragment's source changed: Triton's key changes with it
            return _miss(jf, grid, args, kwargs, device)
    # run() checks each used global != its value at compile time (a deep copy); the object run()
    # last found equal is still there, or run() checks again (and raises if it changed)
    if jf.used_global_vals is not ugv:
        return _miss(jf, grid, args, kwargs, device)
    for gd, name, obj in globs:
        if gd.get(name, _MISSING) is not obj:
            return _miss(jf, grid, args, kwargs, device)
    n = len(grid)
    run(grid[0], grid[1] if n > 1 else 1, grid[2] if n > 2 else 1, stream, function, packed, None, None, None,
        *vals)
    return kernel


def _miss(jf, grid, args, kwargs, device):
    """run(); then its kernel is prepared for this call's key if Triton's own binder and cache agree."""
    kernel = jf.run(*args, grid=grid, warmup=False, **kwargs)
    if (type(kernel) is not _CompiledKernel or kernel._run is None or kernel.function is None
            or "debug" in kwargs or "instrumentation_mode" in kwargs):
        return kernel
    caches = jf.device_caches.get(device)
    if caches is None:
        return kernel
    dev = jf._m2_dev.get(device)
    if dev is None or dev.caches is not caches:
        dev = jf._m2_dev[device] = _Device(jf, caches)
    try:
        vals, spec, opts = dev.keyfn(*args, **kwargs)
        key = _entry_key(spec, opts)
        hash(key)
    except Exception:  # noqa: BLE001
        return kernel
    # Triton's own view of this very call must name the same kernel and bind the same objects
    kernel_cache, key_cache, _target, _backend, binder = caches
    kw = dict(kwargs)
    kw["debug"] = jf.debug or _knobs.runtime.debug
    kw["instrumentation_mode"] = _knobs.compilation.instrumentation_mode
    bound, tspec, topts = binder(*args, **kw)
    if kernel_cache.get(_compute_cache_key(key_cache, tspec, topts)) is not kernel:
        return kernel
    bvals = tuple(bound.values())
    if len(bvals) != len(vals) or any(a is not b for a, b in zip(bvals, vals)):
        return kernel
    frags = []
    for kp, v in zip(jf.params, vals):
        if not kp.is_constexpr:
            continue
        if isinstance(v, _JITCallable):
            if v.hash is None:
                return kernel
            frags.append((v, v.hash))
        elif type(v) not in _SAFE and type(v) is not _tl_dtype:
            return kernel  # floats (-0.0 == 0.0), tuples ((1,) == (True,)), others: run() only
    if any(type(v) not in _SAFE for v in opts.values()):
        return kernel
    ugv = jf.used_global_vals
    globs = tuple((gd, name, gd.get(name, _MISSING)) for (name, _), (_val, gd) in ugv.items())
    dev.entries[key] = (kernel._run, kernel.function, kernel.packed_metadata, tuple(frags), ugv, globs, kernel)
    return kernel
