# generated from bench/models/block-2560.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: d314f8f23576f3ecc35b8332ab575b62c3f17b6e8e3790bb03c3ae4cbc66b5ec
# copied from packages/kernels/python/mamba2_kernels/kernels/host.py
"""Host-side helpers every kernel wrapper shares (plain Python, run on every
call: kept cheap, no Triton JIT call path)."""
from __future__ import annotations

import math
import os

import torch
import triton.language as tl

from .. import _fragments, fragments
from ..fragments import choose

# Triton decides at decoration time whether kernels are interpreted (CPU path).
INTERPRETED = os.environ.get("TRITON_INTERPRET") == "1"

TL_DTYPES = {torch.float32: tl.float32, torch.float16: tl.float16, torch.bfloat16: tl.bfloat16}


def cdiv(a, b):
    """Host-side ceil(a / b). triton.cdiv goes through Triton's JIT call path,
    which costs microseconds per call; wrappers run on every forward."""
    return -(-a // b)


def next_pow2(n):
    """Host-side next power of two (1 for n <= 1), as triton.next_power_of_2."""
    return 1 << (n - 1).bit_length() if n > 1 else 1


def limit_pair(limit):
    """dt_limit (lo, hi) as floats; None means unbounded on that side."""
    lo, hi = limit
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)
    return lo, hi


def loop_count(n):
    """A runtime loop bound for a kernel. The interpreter wraps int arguments
    as 1-element arrays, which NumPy >= 2.4 refuses as a range() bound; a NumPy
    scalar passes through unwrapped. Compiled kernels get the plain int."""
    if INTERPRETED:
        import numpy as np

        return np.int32(n)
    return n


def last_dim_contiguous(t):
    if t is None:
        return None
    return t if t.stride(-1) == 1 else t.contiguous()


def dot_dtype(dtype):
    """Dot operands go in x's dtype (bf16 dots, fp32 accumulate). The
    interpreter's bf16 tl.dot multiplies raw bit patterns, so there the
    operands are rounded to bf16 and then widened to fp32: same rounding,
    working dot."""
    if INTERPRETED and dtype == torch.bfloat16:
        return tl.float32
    return TL_DTYPES[dtype]


def dot_precision(dtype):
    """input_precision of fp32 dots: tf32x3 keeps fp32 accuracy on tensor
    cores (bf16/fp16 operands ignore it)."""
    return "tf32x3" if dtype == torch.float32 else "tf32"


# ---- fragments for a call (see ../fragments.py and ../_fragments.py) ----


def dt_chain_for(has_bias, softplus, chain=None):
    """The dt chain fragment for a call: `chain` when given, else the model's
    (_fragments.DT_CHAIN) when it serves these flags, else the standard one."""
    if chain is not None:
        return chain
    flags = {"HAS_DT_BIAS": bool(has_bias), "DT_SOFTPLUS": bool(softplus)}
    return choose(_fragments.DT_CHAIN, _fragments.DT_CHAIN_SERVES, flags, fragments.dt_chain)


def scan_epilogue_for(has_d, has_z, epilogue=None):
    """The scan epilogue fragment for a call (same rule as dt_chain_for)."""
    if epilogue is not None:
        return epilogue
    flags = {"HAS_D": bool(has_d), "HAS_Z": bool(has_z)}
    return choose(_fragments.SCAN_EPILOGUE, _fragments.SCAN_EPILOGUE_SERVES, flags, fragments.scan_epilogue)


def conv_activation_for(activation):
    """The ACT fragment for an activation name, or a @triton.jit function v -> v."""
    if fragments.is_fragment(activation):
        return activation
    if activation == _fragments.CONV_ACTIVATION_NAME:
        return _fragments.CONV_ACTIVATION
    if activation in fragments.CONV_ACTIVATIONS:
        return fragments.CONV_ACTIVATIONS[activation]
    names = ", ".join(repr(k) for k in fragments.CONV_ACTIVATIONS if k is not None)
    raise ValueError(
        f"activation must be one of {names} or a @triton.jit function v -> v, got {activation!r}"
    )


# the model DSL's range (packages/dsl validate: chunkSize power of two in 16..256)
MIN_CHUNK_SIZE = 16
MAX_CHUNK_SIZE = 256


def check_scan_order(order, height, width, seqlen, seq_idx, why=""):
    """Raise unless a scan in order `order` (ssd_common.token_index) can run:
    order 0 always; another order needs height * width == seqlen and no seq_idx."""
    if order != 0 and (seq_idx is not None or height * width != seqlen or why):
        raise ValueError(
            f"scan order {order} needs height * width == seqlen and no seq_idx{why}, got {height} x {width} "
            f"for seqlen {seqlen}, seq_idx {'set' if seq_idx is not None else 'None'}")


def check_chunk_size(chunk_size):
    """Raise unless chunk_size is a power of two in MIN_CHUNK_SIZE..MAX_CHUNK_SIZE."""
    ok = (
        isinstance(chunk_size, int) and not isinstance(chunk_size, bool)
        and MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE and not chunk_size & (chunk_size - 1)
    )
    if not ok:
        allowed = ", ".join(str(1 << k) for k in range(MIN_CHUNK_SIZE.bit_length() - 1, MAX_CHUNK_SIZE.bit_length()))
        raise ValueError(
            f"chunk_size must be a power of two in {MIN_CHUNK_SIZE}..{MAX_CHUNK_SIZE}, got {chunk_size!r}: "
            f"pass one of {allowed} (the range the model DSL allows)"
        )
