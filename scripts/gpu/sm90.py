"""Build a library Triton kernel for sm_90 without a GPU, with the signature
Triton's JIT gives a launch: the one signature rule of bwd_regs.py /
fused_regs.py (registers, spills, SASS), smem.py (shared memory) and
order0_ptx.py (PTX); build_launch binds a recorded launch's own arguments
instead (fwd_launches.py). Imports no mamba2_kernels: order0_ptx.py builds the
kernels of other library roots with it.
"""
from __future__ import annotations

import inspect
import os
import re
import subprocess
import tempfile

import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

TARGET = GPUTarget("cuda", 90, 32)
FLOATS = frozenset({"dt_lo", "dt_hi", "lo", "hi", "eps"})  # the non-pointer float arguments
DIVISIBLE = frozenset({"P", "N", "L", "LP", "C", "D", "PN"})  # ints the JIT marks 16-divisible at aligned shapes


def signature(fn, ptrs: dict, consts: dict, ones=()):
    """(sig, constants, attrs) for ASTSource(fn, ...). ptrs: pointer argument ->
    element type ("bf16", "fp32", "i32"); arguments in consts are constexprs,
    and every constexpr with a default that consts leaves out takes it (ORDER 0,
    the plain scan; the backward chunk kernels' RESETS, SKIP, ...: the exact
    form over every program). ones: int arguments a plain launch passes as 1,
    which the JIT specialises to constants (HI, WI). Every other argument is an
    i32 (fp32 for FLOATS), 16-divisible for strides and DIVISIBLE, as the JIT
    marks them at 16-aligned shapes; pointers are 16-divisible."""
    consts = {**{p.name: p.default for p in fn.params if p.is_constexpr and p.default is not inspect.Parameter.empty},
              **{n: 1 for n in ones if n in fn.arg_names}, **consts}
    sig, attrs = {}, {}
    for i, name in enumerate(fn.arg_names):
        if name in consts:
            sig[name] = "constexpr"
        elif name in ptrs:
            sig[name] = "*" + ptrs[name]
            attrs[(i,)] = [["tt.divisibility", 16]]
        elif name in FLOATS:
            sig[name] = "fp32"
        else:
            sig[name] = "i32"
            if name.startswith("stride") or name in DIVISIBLE:
                attrs[(i,)] = [["tt.divisibility", 16]]
    return sig, consts, attrs


def build(fn, ptrs: dict, consts: dict, num_warps=4, num_stages=2, maxnreg=None, ones=()):
    """triton.compile of fn for sm_90 with signature()'s rule."""
    sig, consts, attrs = signature(fn, ptrs, consts, ones)
    opts = dict(num_warps=num_warps, num_stages=num_stages, **({"maxnreg": maxnreg} if maxnreg else {}))
    return triton.compile(ASTSource(fn, sig, consts, attrs), target=TARGET, options=opts)


_LAUNCH_BUILDS: dict = {}


def build_launch(jit, args, kwargs, maxnreg=None):
    """(key, kernel, signature, spec) of the sm_90 build of the launch jit[grid](*args, **kwargs),
    each argument specialised by Triton's own binder as the JIT would on the GPU (args: real
    tensors, CPU is enough; kwargs: the launch's constexprs and options); built once per key
    (kernel and specialisation)."""
    from triton.compiler import make_backend
    from triton.runtime.jit import compute_cache_key, create_function_from_signature

    backend = make_backend(TARGET)
    binder = create_function_from_signature(jit.signature, jit.params, backend)
    kw = {**kwargs, "debug": False, **({"maxnreg": maxnreg} if maxnreg else {})}
    bound, spec, opts = binder(*args, **kw)
    key = (jit.fn.__module__, jit.fn.__name__, str(compute_cache_key({}, spec, opts)))
    if key not in _LAUNCH_BUILDS:
        options, signature, constexprs, attrs = jit._pack_args(backend, kw, bound, spec, opts)
        k = triton.compile(ASTSource(jit, signature, constexprs, attrs), target=TARGET, options=options.__dict__)
        _LAUNCH_BUILDS[key] = (key, k, signature, spec)
    return _LAUNCH_BUILDS[key]


BIN = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin")  # Triton's cuobjdump, ptxas


def sass_text(cubin: bytes) -> str:
    """cuobjdump -sass of a cubin."""
    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        return subprocess.run([os.path.join(BIN, "cuobjdump"), "-sass", f.name], capture_output=True, text=True,
                              check=True).stdout


def sass_count(sass: str) -> int:
    """Instructions in a SASS listing (one /*addr*/ per instruction)."""
    return len(re.findall(r"/\*[0-9a-f]{4}\*/", sass))


_INSTR = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;")


def loops(sass: str):
    """The loops of a SASS listing, innermost-agnostic: one dict per backward branch (BRA to a lower
    address), in address order: start/end addresses, instructions, HGMMA issued, HGMMA waits
    (WARPGROUP.DEPBAR: each one ends a batch of HGMMAs issued back to back), LDL / STL (spill loads and
    stores), CALL. A wgmma pipeline serialised by ptxas (C7510) shows as one wait per HGMMA."""
    ins = [(int(a, 16), t) for a, t in _INSTR.findall(sass)]
    out = []
    for addr, text in ins:
        m = re.match(r"(@!?U?P\w+\s+)?BRA(\.\w+)*\s+(?:`\(\.L_x_\d+\)|0x)?([0-9a-f]+)", text)
        if not m:
            continue
        target = int(m.group(3), 16)
        if target >= addr:
            continue
        body = [t for a, t in ins if target <= a <= addr]
        ops = [t.split()[1] if t.startswith("@") else t.split()[0] for t in body]
        out.append(dict(start=target, end=addr, instr=len(body),
                        hgmma=sum(o.startswith("HGMMA") for o in ops),
                        waits=sum(o.startswith("WARPGROUP.DEPBAR") for o in ops),
                        ldl=sum(o.startswith("LDL") for o in ops), stl=sum(o.startswith("STL") for o in ops),
                        call=sum(o.startswith("CALL") for o in ops)))
    return out


def ptxas_info(ptx: str, arch="sm_90a"):
    """ptxas -v's notes on a PTX (C7510: wgmma serialised at a function call, spill lines)."""
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "k.ptx")
        with open(src, "w") as f:
            f.write(ptx)
        r = subprocess.run([os.path.join(BIN, "ptxas"), f"-arch={arch}", "-v", src, "-o", os.path.join(d, "k.o")],
                           capture_output=True, text=True)
    return [ln.strip() for ln in (r.stdout + r.stderr).splitlines()
            if "C75" in ln or "spill" in ln or "stack frame" in ln]
