"""The floor of a measured time, by the bench's one rule (mamba2_runner/bench/configs.py):
floor = max(minimal bytes / BANDWIDTH, flops / MATMUL_RATE), the two ceilings
measured on the lent H200 (a device copy, a bf16 8192^3 matmul), flops as
full chunk blocks at the baseline's chunk (FLOOR_CHUNK, 256), so the floor
of a shape does not depend on the config being timed. `floor_frac =
floor_ms / ms` (1.0 = at the roofline). The ceilings are the H200's: on any
other device (or the CPU) no floor is given.

  fwd:   ssd_bytes / ssd_flops of the bench;
  bwd:   the forward's inputs and the output gradient read once, one gradient
         per input written (dx, dB, dC bf16; ddt fp32), twice the forward's flops;
  block: forward + backward of the whole block: the projections' 6 x params x
         tokens plus the scan's 3 x forward flops; bytes: u and out, in_proj's
         output written and read back (forward, backward) and the scan's.
"""
from __future__ import annotations

from typing import Optional

from ..bench.configs import BF16, floor_from, ssd_bytes, ssd_flops


def _on_h200(gpu: Optional[str]) -> bool:
    return bool(gpu) and "H200" in str(gpu)


def ssd_counts(kind: str, shape: dict) -> tuple[int, int]:
    b, l, h, p, n, g = (shape[k] for k in ("batch", "seqlen", "nheads", "headdim", "d_state", "ngroups"))
    fwd_bytes, flops = ssd_bytes(b, l, h, p, n, g, False), ssd_flops(b, l, h, p, n, g)
    if kind == "fwd":
        return fwd_bytes, flops
    out = b * l * h * p * BF16
    inputs = fwd_bytes - out
    return inputs + out + inputs, 2 * flops  # inputs and dout read; one gradient per input, in its dtype


def _frac(fl: dict, ms: Optional[float]) -> dict:
    return {"floor_ms": fl["ms"], "floor_frac": fl["ms"] / ms if ms else None, "floor_bound": fl["bound"],
            "bytes": fl["bytes"], "flops": fl["flops"]}


def kernel_floor(kind: str, shape: dict, ms: Optional[float], gpu: Optional[str]) -> dict:
    nbytes, flops = ssd_counts(kind, shape)
    fl = floor_from(nbytes, flops)
    if not _on_h200(gpu):
        return {"floor_ms": None, "floor_frac": None, "floor_bound": None, "bytes": nbytes, "flops": flops}
    return _frac(fl, ms)


def block_floor(dims: dict, tokens: int, ms: Optional[float], gpu: Optional[str]) -> dict:
    shape = {"batch": tokens, "seqlen": 1, "nheads": dims["nheads"], "headdim": dims["headdim"],
             "d_state": dims["d_state"], "ngroups": 1}
    sb_f, sf = ssd_counts("fwd", shape)
    sb_b, _ = ssd_counts("bwd", shape)
    flops = 6 * dims["linear_params"] * tokens + 3 * sf
    nbytes = tokens * (2 * dims["d_model"] + 2 * dims["d_in_proj"]) * BF16 * 2 + sb_f + sb_b
    fl = floor_from(nbytes, flops)
    if not _on_h200(gpu):
        return {"floor_ms": None, "floor_frac": None, "floor_bound": None, "bytes": nbytes, "flops": flops}
    return _frac(fl, ms)
