"""Where torch.compile's time goes for the layer forward (issue 10: compiled was 1.53x eager on the H200).

    PYTHONPATH=packages/runner/python:packages/kernels/python python scripts/gpu/compile_profile.py

kernels-out/mamba2_130m's Mamba2 (d_model 768, bf16) at (4, 1024), no grad: eager and
torch.compile (default) each profiled over 20 calls after warm-up. Prints, per mode, the wall time
per call, the GPU kernel time per call and the top CPU-side ops (self CPU time), so host overhead
(custom-op dispatch, guards) and extra kernels (copies Inductor adds) can be told apart.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for p in ("packages/runner/python", "packages/kernels/python"):
    sys.path.insert(0, str(ROOT / p))

import torch  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402

from mamba2_runner.pkgload import load_generated  # noqa: E402


def main():
    mod = load_generated(ROOT / "kernels-out" / "mamba2_130m")
    torch.manual_seed(0)
    layer = mod.Mamba2(768, layer_idx=0, device="cuda", dtype=torch.bfloat16)
    u = torch.randn(4, 1024, 768, device="cuda", dtype=torch.bfloat16)
    for label, m in (("eager", layer), ("compiled", torch.compile(layer))):
        with torch.no_grad():
            for _ in range(5):
                m(u)
            torch.cuda.synchronize()
            t = time.perf_counter()
            for _ in range(50):
                m(u)
            torch.cuda.synchronize()
            wall = (time.perf_counter() - t) / 50 * 1e3
            with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
                for _ in range(20):
                    m(u)
                torch.cuda.synchronize()
        ev = prof.key_averages()
        gpu = sum(e.self_device_time_total for e in ev) / 20 / 1e3
        print(f"== {label}: wall {wall:.3f} ms/call, GPU kernels {gpu:.3f} ms/call")
        print(ev.table(sort_by="self_device_time_total", row_limit=12, max_name_column_width=60))
        print(ev.table(sort_by="self_cpu_time_total", row_limit=12, max_name_column_width=60))


if __name__ == "__main__":
    main()
