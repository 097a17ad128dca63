"""Shared memory (bytes) of the library's Triton kernels, built for sm_90 with
Triton's own toolchain: no GPU needed (runs on the CPU machine; needs the
ptxas Triton ships, whose version is part of the build's cache key).

    .venv/bin/python scripts/gpu/smem.py bwd_chunk Q=128 P=64 N=128 stages=3
    .venv/bin/python scripts/gpu/smem.py --json fused_T Q=64 P=64 N=256 ...

Each argument after the kernel name is KEY=VALUE: Q, P, N (the CHUNK,
BLOCK_P, BLOCK_N constexprs), warps, stages, dtype (bf16 | fp16 | fp32),
z, seq (0/1: HAS_Z, HAS_SEQ_IDX), more kernel-specific ones (see KERNELS).
The default of every launch setting is the one the wrapper passes (warps 8 for
bwd_chunk; stages 3, Triton's default, where the wrapper passes none).

The number printed is `metadata.shared` of the build, which the launcher
compares with the device's limit (232448 on the H100 / H200, the error
"out of resource: shared memory, Required: ..., Hardware limit: 232448").
--fast stops the build after the LLVM IR stage, where Triton computes that
number (the same value, ~2x faster: no PTX, no ptxas run).
Used by packages/kernels/python/tests/test_smem_fit.py; the numbers behind
kernels/host.py's shared-memory rules came from here.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
if os.environ.get("TRITON_INTERPRET") == "1":
    raise SystemExit("scripts/gpu/smem.py builds kernels: run it without TRITON_INTERPRET=1")
sys.path.insert(0, os.path.join(_ROOT, "packages", "kernels", "python"))
os.environ.setdefault("TRITON_CACHE_DIR", tempfile.mkdtemp(prefix="smem-cache-"))  # builds for a GPU this machine lacks

import triton  # noqa: E402
import triton.language as tl  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sm90  # noqa: E402
_TL = {"bf16": tl.bfloat16, "fp16": tl.float16, "fp32": tl.float32}
_BIN = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin")


def ptxas_path() -> str | None:
    """Triton's ptxas for sm_90 (None when absent or not runnable)."""
    import subprocess

    p = os.environ.get("TRITON_PTXAS_PATH") or os.path.join(_BIN, "ptxas")
    try:
        ok = subprocess.run([p, "--version"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return p if ok else None


class _Stop(Exception):
    pass


_FAST = {"on": False, "shared": None}


def _hook(backend, stages, options, language, capability):
    if not _FAST["on"]:
        return
    llir = stages["llir"]

    def upto_llir(src, md):
        llir(src, md)
        _FAST["shared"] = md["shared"]
        raise _Stop()

    stages["llir"] = upto_llir


def shared_bytes(fn, ptrs: dict, consts: dict, num_warps=4, num_stages=3, maxnreg=None, fast=False) -> int:
    """metadata.shared of fn built for sm_90 with sm90.signature's rule (ptrs: pointer arg ->
    element type; consts: constexprs; the other constexprs at their defaults; HI, WI specialised
    to 1 as a plain launch's)."""
    from triton import knobs

    knobs.runtime.add_stages_inspection_hook = _hook
    _FAST["on"] = fast
    try:
        # HI, WI: a plain launch passes 1, which the JIT specialises
        return sm90.build(fn, ptrs, consts, num_warps=num_warps, num_stages=num_stages, maxnreg=maxnreg,
                          ones=("HI", "WI")).metadata.shared
    except _Stop:
        return _FAST["shared"]
    finally:
        _FAST["on"] = False


def _ptrs(names, elt, fp32=(), i32=()):
    return {n: ("fp32" if n in fp32 else "i32" if n in i32 else elt) for n in names}


def _bwd_chunk(a):
    from mamba2_kernels.kernels import ssd_bwd as W

    elt, sd = a["dtype"], a.get("state", a["dtype"])
    ptrs = _ptrs(W._ssd_bwd_chunk_v4_kernel.arg_names[:21], elt,
                 fp32=("dt", "A", "D", "dt_bias", "dtp", "csp", "ddt", "dB_part", "dC_part", "dA_part", "dD_part"),
                 i32=("seq_idx",))
    ptrs["states"] = ptrs["dstates"] = sd
    c = dict(CHUNK=a["Q"], BLOCK_P=a["P"], BLOCK_N=a["N"], DOT_DTYPE=_TL[elt], DOT_PRECISION=a.get("prec", "tf32"),
             HAS_D=True, D_PER_CHANNEL=False, HAS_Z=bool(a["z"]), HAS_DT_BIAS=True, DT_SOFTPLUS=True,
             HAS_SEQ_IDX=bool(a["seq"]), DO_X=True, DO_BC=True)
    return W._ssd_bwd_chunk_v4_kernel, ptrs, c, a.get("warps", 8)


def _bwd_walk(a):
    from mamba2_kernels.kernels import ssd_bwd as W

    elt = a["dtype"]
    ptrs = dict(lt=elt, rt=elt, z=elt, dtp="fp32", csp="fp32", seq_idx="i32", start="fp32",
                out_states=a.get("state", elt), last="fp32")
    rev = bool(a.get("rev", 1))
    c = dict(CHUNK=a["Q"], BLOCK_P=a["P"], BLOCK_N=a["N"], DOT_DTYPE=_TL[elt], DOT_PRECISION=a.get("prec", "tf32"),
             REVERSE=rev, HAS_Z=bool(a["z"]) and rev, HAS_START=False, HAS_SEQ_IDX=bool(a["seq"]), STORE_LAST=False)
    return W._ssd_bwd_walk_kernel, ptrs, c, a.get("warps", 4)


def _fused_common(a):
    from mamba2_kernels import fragments as FR

    return dict(CHUNK=a["Q"], BLOCK_P=a["P"], BLOCK_N=a["N"], DOT_DTYPE=_TL[a["dtype"]], HAS_D=True,
                D_PER_CHANNEL=False, HAS_Z=bool(a["z"]), HAS_INIT=False, HAS_SEQ_IDX=bool(a["seq"]),
                STORE_FINAL=False, SCAN_EPILOGUE=FR.scan_epilogue)


def _fused(a):
    from mamba2_kernels import fragments as FR
    from mamba2_kernels.kernels import ssd_fused as F

    elt = a["dtype"]
    ptrs = _ptrs(F._ssd_fused_fwd_kernel.arg_names[:12], elt, fp32=("dt", "A", "D", "dt_bias", "init", "final"),
                 i32=("seq_idx",))
    c = dict(_fused_common(a), HAS_DT_BIAS=True, DT_SOFTPLUS=True, DT_CHAIN=FR.dt_chain)
    return F._ssd_fused_fwd_kernel, ptrs, c, a.get("warps", 4)


def _fused_T(a):
    from mamba2_kernels.kernels import ssd_fused as F

    elt = a["dtype"]
    ptrs = _ptrs(F._ssd_fused_T_kernel.arg_names[:14], elt,
                 fp32=("dtp", "csp", "D", "init", "sseg", "dseg", "final"), i32=("seq_idx", "flags"))
    # mode: "default" (the plain walk, then the exact one in flagged programs: what ssd_fused_fwd launches),
    # "exact" (one exact walk: accumulate / exact_only), "plain" (the plain walk alone, for tests)
    mode = a.get("mode", "default")
    c = dict(_fused_common(a), SPLIT=bool(a.get("split", 0)), EXACT=mode == "exact", RERUN=mode != "plain")
    return F._ssd_fused_T_kernel, ptrs, c, a.get("warps", 4)


def _state_T(a):
    from mamba2_kernels.kernels import ssd_fused as F

    elt = a["dtype"]
    ptrs = _ptrs(F._ssd_state_T_kernel.arg_names[:7], elt, fp32=("dtp", "csp", "sseg", "dseg"), i32=("seq_idx",))
    c = dict(CHUNK=a["Q"], BLOCK_P=a["P"], BLOCK_N=a["N"], DOT_DTYPE=_TL[elt], HAS_SEQ_IDX=bool(a["seq"]))
    return F._ssd_state_T_kernel, ptrs, c, a.get("warps", 4)


def _chunk_state(a):
    from mamba2_kernels.kernels import ssd_chunked as K

    elt = a["dtype"]
    ptrs = _ptrs(K._chunk_state_kernel.arg_names[:6], elt, fp32=("dt_in", "cs_in", "states"), i32=("seg_in",))
    c = dict(CHUNK=a["Q"], HAS_SEQ_IDX=bool(a["seq"]), DOT_PRECISION=a.get("prec", "tf32"), BLOCK_P=a["P"],
             BLOCK_N=a["N"], BLOCK_K=min(a["Q"], 32))
    return K._chunk_state_kernel, ptrs, c, a.get("warps", 4)


def _chunk_scan(a):
    from mamba2_kernels import fragments as FR
    from mamba2_kernels.kernels import ssd_chunked as K

    elt = a["dtype"]
    ptrs = _ptrs(K._chunk_scan_kernel.arg_names[:10], elt, fp32=("D", "dt_in", "cs_in", "states"), i32=("seg_in",))
    c = dict(CHUNK=a["Q"], HAS_D=True, D_PER_CHANNEL=False, HAS_Z=bool(a["z"]), HAS_SEQ_IDX=bool(a["seq"]),
             DOT_PRECISION=a.get("prec", "tf32"), BLOCK_M=min(a["Q"], 64), BLOCK_K=min(a["Q"], 32), BLOCK_P=a["P"],
             BLOCK_N=a["N"], SCAN_EPILOGUE=FR.scan_epilogue)
    return K._chunk_scan_kernel, ptrs, c, a.get("warps", 4)


# kernel name -> (fn, pointer types, constexprs, the wrapper's warps) from the parsed arguments
KERNELS = {
    "bwd_chunk": _bwd_chunk, "bwd_walk": _bwd_walk, "fused": _fused, "fused_T": _fused_T, "state_T": _state_T,
    "chunk_state": _chunk_state, "chunk_scan": _chunk_scan,
}


def parse(args):
    a = dict(Q=32, P=64, N=128, dtype="bf16", z=0, seq=0)
    for s in args:
        k, v = s.split("=", 1)
        a[k] = v if k in ("dtype", "state", "prec", "mode") else int(v)
    return a


def measure(kernel: str, args, fast=False) -> dict:
    a = parse(args)
    fn, ptrs, consts, warps = KERNELS[kernel](a)
    t = time.time()
    shared = shared_bytes(fn, ptrs, consts, num_warps=a.get("warps", warps), num_stages=a.get("stages", 3), fast=fast)
    return {"kernel": kernel, **a, "shared": shared, "s": round(time.time() - t, 1)}


def main(argv):
    as_json = "--json" in argv
    fast = "--fast" in argv
    argv = [x for x in argv if x not in ("--json", "--fast")]
    if not argv or argv[0] not in KERNELS:
        raise SystemExit(f"usage: smem.py [--json] [--fast] KERNEL KEY=VALUE...; kernels: {', '.join(KERNELS)}")
    # one line per ';'-separated config: smem.py bwd_chunk Q=128 stages=2 ';' Q=128 stages=3
    groups, cur = [], []
    for x in argv[1:]:
        if x == ";":
            groups.append(cur)
            cur = []
        else:
            cur.append(x)
    groups.append(cur)
    for g in groups:
        r = measure(argv[0], g, fast=fast)
        if as_json:
            print(json.dumps(r), flush=True)
        else:
            print(" ".join(f"{k}={v}" for k, v in r.items()), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
