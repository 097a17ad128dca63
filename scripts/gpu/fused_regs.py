"""Registers, spills, shared memory and SASS size of the fused forward's
transposed walk (_ssd_fused_T_kernel) in its launch modes, built for sm_90 with
Triton's own ptxas (no GPU needed), from a library root (default: this repo's):

  .venv/bin/python scripts/gpu/fused_regs.py [ROOT]      # ROOT/mamba2_kernels
Modes: exact (one walk with the non-finite selects), plain (the walk without
them, writing the per-program flag, and nothing else: RERUN False), 2pass (the
default launch: plain, then the exact walk when flagged, in one kernel). A root
from before the two forms has only its one mode, printed as "exact".
Config: the T+pre launch of the large shapes (CHUNK 32, BLOCK_P 64, d_state
128, 4 warps, 3 stages, maxnreg 168), bf16, D, with / without z and seq_idx.
"""
from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(_HERE, "..", "..", "packages", "kernels", "python")
sys.path.insert(0, ROOT)
from mamba2_kernels.kernels import ssd_fused as F  # noqa: E402  (from ROOT: imported before bwd_regs adds the repo's)
from mamba2_kernels import fragments as FR  # noqa: E402

sys.path.insert(1, _HERE)
import triton.language as tl  # noqa: E402
import sm90  # noqa: E402
from bwd_regs import _resources, compile_sm90  # noqa: E402


def sass_lines(cubin: bytes) -> int:
    """Instruction count of a cubin (cuobjdump -sass), a proxy for work per chunk."""
    return sm90.sass_count(sm90.sass_text(cubin))


def main():
    bf = "bf16"
    fn = F._ssd_fused_T_kernel
    ptrs = {n: bf for n in ("x", "B", "C", "z", "out")}
    ptrs.update(D="fp32", init="fp32", seq_idx="i32", final="fp32", dtp="fp32", csp="fp32", sseg="fp32",
                dseg="fp32", flags="i32")
    ptrs = {k: v for k, v in ptrs.items() if k in fn.arg_names}
    two_pass = "EXACT" in fn.arg_names
    modes = ({"exact": dict(EXACT=True, RERUN=True), "plain": dict(EXACT=False, RERUN=False),
              "2pass": dict(EXACT=False, RERUN=True)} if two_pass else {"exact": {}})
    print(f"root {ROOT}")
    print(f"{'mode':6} {'z':>2} {'seq':>4} {'regs':>5} {'stack B':>8} {'smem B':>7} {'SASS':>6}")
    for hz in (False, True):
        for seq in (False, True):
            for mode, extra in modes.items():
                c = dict(CHUNK=32, BLOCK_P=64, BLOCK_N=128, DOT_DTYPE=tl.bfloat16, HAS_D=True, D_PER_CHANNEL=False,
                         HAS_Z=hz, HAS_INIT=False, HAS_SEQ_IDX=seq, STORE_FINAL=False, SPLIT=False,
                         SCAN_EPILOGUE=FR.scan_epilogue, **extra)
                for n, v in (("ORDER", 0), ("ACCUMULATE", False), ("HI", 1), ("WI", 1)):
                    if n in fn.arg_names:
                        c[n] = v
                k = compile_sm90(fn, ptrs, c, num_warps=4, maxnreg=168, num_stages=3)
                (regs, stack), smem, n_sass = _resources(k.asm["cubin"]), k.metadata.shared, sass_lines(k.asm["cubin"])
                print(f"{mode:6} {int(hz):2d} {int(seq):4d} {regs:5d} {stack:8d} {smem:7d} {n_sass:6d}")


if __name__ == "__main__":
    main()
