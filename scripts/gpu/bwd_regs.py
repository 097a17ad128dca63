"""Registers, spills and shared memory of the SSD backward kernels, built for
sm_90 with Triton's own ptxas: no GPU needed (runs on the CPU machine).

  .venv/bin/python scripts/gpu/bwd_regs.py            # table
Each row: kernel, config, registers per thread, spilled bytes, shared memory.
"""
from __future__ import annotations

import os
import sys

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(_ROOT, "packages", "kernels", "python"))

import triton.language as tl  # noqa: E402

import sm90  # noqa: E402  (scripts/gpu, beside this file)

from mamba2_kernels.kernels import ssd_bwd as bwd  # noqa: E402
from mamba2_kernels.kernels import ssd_bwd_T as bwd_T  # noqa: E402
from mamba2_kernels.kernels import ssd_bwd_v6 as bwd_v6  # noqa: E402



def build(fn, ptrs: dict, consts: dict, num_warps=4, maxnreg=None, num_stages=2):
    """(registers, stack bytes, shared bytes) of compile_sm90's build."""
    k = compile_sm90(fn, ptrs, consts, num_warps=num_warps, maxnreg=maxnreg, num_stages=num_stages)
    return (*_resources(k.asm["cubin"]), k.metadata.shared)


def compile_sm90(fn, ptrs: dict, consts: dict, num_warps=4, maxnreg=None, num_stages=2):
    """The sm_90 build of fn (sm90.build: the JIT's signature for a launch)."""
    return sm90.build(fn, ptrs, consts, num_warps=num_warps, num_stages=num_stages, maxnreg=maxnreg)


_BIN = sm90.BIN


def _resources(cubin: bytes):
    """(registers, spilled bytes: stack frame + spill stores) from cuobjdump -res-usage."""
    import re
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        out = subprocess.run([os.path.join(_BIN, "cuobjdump"), "-res-usage", f.name],
                             capture_output=True, text=True, check=True).stdout
    regs = int(re.search(r"REG:(\d+)", out).group(1))
    stack = int(re.search(r"STACK:(\d+)", out).group(1))
    return regs, stack


def v6_rows(warps=(4, 8), blocks=(64,)):
    """Backward v6's kernels (ssd_bwd_v6.py) at headdim 64, d_state 128, bf16; `bwd_regs.py v6`."""
    bf = "bf16"
    f = "fp32"
    rows = []
    base = dict(BLOCK_P=64, BLOCK_N=128, DOT_DTYPE=tl.bfloat16, DOT_PRECISION="tf32")
    kerns = [
        ("v6 pair", bwd_v6._v6_pair_kernel, dict(x=bf, B=bf, C=bf, dout=bf, dtp=f, csp=f, cb=f, w=f, g_row=f,
                                                 g_col=f, g_ddt=f), {}),
        ("v6 dx", bwd_v6._v6_dx_kernel, dict(x=bf, B=bf, C=bf, D=f, dout=bf, dtp=f, csp=f, states=bf, dstates=bf,
                                             cb=f, dx=bf, s_dcs=f, s_ddt=f, s_last=f, dD_part=f),
         dict(HAS_D=True, D_PER_CHANNEL=False)),
        ("v6 dbc", bwd_v6._v6_dbc_kernel, dict(x=bf, B=bf, C=bf, dout=bf, dtp=f, csp=f, states=bf, dstates=bf, w=f,
                                               dB=f, dC=f), {}),
    ]
    for bq in blocks:
        for name, fn, ptrs, extra in kerns:
            for w in warps:
                for st in (2, 3):
                    c = dict(base, NB=256 // bq, BQ=bq, **extra)
                    rows.append((name, f"K256 B{bq} w{w} s{st}", *build(fn, ptrs, c, num_warps=w, num_stages=st)))
    dtc = dict(NB=4, BQ=64, K=256, HAS_DT_BIAS=True, DT_SOFTPLUS=True)
    rows.append(("v6 dt", "K256 w4", *build(bwd_v6._v6_dt_kernel, dict(dt=f, A=f, dt_bias=f, dtp=f, g_row=f, g_col=f,
                                                                      g_ddt=f, s_dcs=f, s_ddt=f, s_last=f, ddt=f,
                                                                      dA_part=f), dtc, num_warps=4)))
    wp = dict(lt=bf, rt=bf, z=bf, dtp=f, csp=f, seq_idx="i32", start=f, out_states=bf, last=f, flags="i32")
    for rev in (False, True):
        c = dict(CHUNK=32, BLOCK_P=64, BLOCK_N=128, DOT_DTYPE=tl.bfloat16, DOT_PRECISION="tf32", REVERSE=rev,
                 HAS_Z=False, HAS_START=True, HAS_SEQ_IDX=False, STORE_LAST=rev, STORE_EVERY=8, COARSE=8, FLAG=True)
        rows.append((f"v6 walk {'rev' if rev else 'fwd'}", "Q32 w4 r168",
                     *build(bwd._ssd_bwd_walk_kernel, wp, c, num_warps=4, maxnreg=168)))
    return rows


def main():
    bf = "bf16"
    if sys.argv[1:] == ["v6"]:
        print(f"{'kernel':16} {'config':18} {'regs':>5} {'stack B':>8} {'smem B':>8}")
        for k, cfg, r, s, m in v6_rows():
            print(f"{k:16} {cfg:18} {r:5d} {s:8d} {m:8d}")
        return
    rows = []
    base = dict(BLOCK_P=64, BLOCK_N=128, DOT_PRECISION="tf32", HAS_DT_BIAS=True, DT_SOFTPLUS=True, HAS_SEQ_IDX=False)
    # v4 walk
    wp = dict(lt=bf, rt=bf, z=bf, dtp="fp32", csp="fp32", seq_idx="i32", start="fp32", out_states=bf, last="fp32")
    walks = ((32, 4, 168), (64, 4, 168), (64, 4, None), (128, 4, 168), (64, 8, None))
    if len(sys.argv) > 1:
        walks = ()
    for q, w, r in walks:
        for rev in (False, True):
            c = dict(CHUNK=q, BLOCK_P=64, BLOCK_N=128, DOT_DTYPE=tl.bfloat16, DOT_PRECISION="tf32", REVERSE=rev,
                     HAS_Z=rev, HAS_START=False, HAS_SEQ_IDX=False, STORE_LAST=False)
            rows.append((f"v4 walk {'rev' if rev else 'fwd'}", f"Q{q} w{w} r{r}",
                         *build(bwd._ssd_bwd_walk_kernel, wp, c, num_warps=w, maxnreg=r)))
    # v4 chunk
    cp = dict(x=bf, dt="fp32", A="fp32", B=bf, C=bf, D="fp32", z=bf, dt_bias="fp32", dtp="fp32", csp="fp32",
              seq_idx="i32", states=bf, dstates=bf, dout=bf, dx=bf, dz=bf, ddt="fp32", dB_part="fp32",
              dC_part="fp32", dA_part="fp32", dD_part="fp32")
    # (kernel part, Q, warps, maxnreg); part: v4 = v4's kernel, both halves; v4x / v4bc = one
    # half (DO_X / DO_BC); v5x, v5bc: the same for the transposed kernel (v5s's two launches)
    cfgs = [("v4", 32, 8, None), ("v4", 64, 8, None), ("v5x", 32, 8, None), ("v5bc", 32, 8, None),
            ("v5x", 32, 4, None), ("v5bc", 32, 4, None)]
    if len(sys.argv) > 1:
        cfgs = [(a.split(",")[0], *(None if v == "-" else int(v) for v in a.split(",")[1:])) for a in sys.argv[1:]]
    for part, q, w, r in cfgs:
        for hz in (False, True):
            c = dict(base, CHUNK=q, DOT_DTYPE=tl.bfloat16, HAS_D=True, D_PER_CHANNEL=False, HAS_Z=hz,
                     DO_X=part[2:] in ("", "x"), DO_BC=part[2:] in ("", "bc"))
            fn = bwd_T._ssd_bwd_chunk_T_kernel if part.startswith("v5") else bwd._ssd_bwd_chunk_v4_kernel
            rows.append((f"{part} chunk", f"Q{q} w{w} r{r}{' z' if hz else ''}",
                         *build(fn, cp, c, num_warps=w, maxnreg=r)))
    print(f"{'kernel':16} {'config':18} {'regs':>5} {'stack B':>8} {'smem B':>8}")
    for k, cfg, r, s, m in rows:
        print(f"{k:16} {cfg:18} {r:5d} {s:8d} {m:8d}")


if __name__ == "__main__":
    main()
