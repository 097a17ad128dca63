"""Build a library Triton kernel for sm_90 without a GPU, with the signature
Triton's JIT gives a launch: the one signature rule of bwd_regs.py /
fused_regs.py (registers, spills, SASS), smem.py (shared memory) and
order0_ptx.py (PTX). Imports no mamba2_kernels: order0_ptx.py builds the
kernels of other library roots with it.
"""
from __future__ import annotations

import inspect

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
