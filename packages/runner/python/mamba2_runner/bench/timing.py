"""How the bench times: triton.testing.do_bench medians over rotating input
sets (enough that one cycle overflows L2), CUDA-graph replay for the
launch-bound shapes (run after every plain timing), and the peak memory of
one call (torch.cuda.max_memory_allocated after reset_peak_memory_stats)."""
from __future__ import annotations

import itertools
import math
from typing import Callable, List, Optional

L2_BYTES = 50 * 2**20


def time_fn(fn: Callable[[dict], object], inputs: List[dict], warmup: int, rep: int) -> float:
    import triton.testing

    it = itertools.cycle(inputs)
    return float(triton.testing.do_bench(lambda: fn(next(it)), warmup=warmup, rep=rep, return_mode="median"))


def time_graph(fn: Callable[[dict], object], inp: dict, rep: int) -> float:
    import triton.testing

    return float(triton.testing.do_bench_cudagraph(lambda: fn(inp), rep=rep, return_mode="median"))


def n_input_sets(nbytes: int) -> int:
    """Enough distinct input sets that one cycle overflows L2 (at most 8)."""
    return max(1, min(8, math.ceil(2 * L2_BYTES / max(nbytes, 1))))


def peak_memory(fn: Callable[[dict], object], inp, device: str) -> tuple[object, Optional[dict]]:
    """Run fn(inp) once and return (its result, {"peak_bytes", "extra_bytes"}):
    peak_bytes = torch.cuda.max_memory_allocated() over the call after
    reset_peak_memory_stats (everything live, inputs and weights included);
    extra_bytes = peak_bytes minus what was allocated just before the call
    (what the call itself needs, its outputs and gradients included).
    None off CUDA."""
    import torch

    if device != "cuda":
        return fn(inp), None
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    out = fn(inp)
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated()
    return out, {"peak_bytes": int(peak), "extra_bytes": int(peak - before)}
