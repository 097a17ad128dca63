"""Host time per call of the SSD forward at the seed shape (2, 128, 8): the
current package vs another (e.g. .old-pkgs/kernels-out/mamba2_simple), and a
cProfile of the current one. Launch-bound shapes are decided by this, not by
the kernel.
    python scripts/gpu/host_overhead.py kernels-out/mamba2_simple .old-pkgs/kernels-out/mamba2_simple
"""
import cProfile, importlib.util, io, pstats, sys, time
from pathlib import Path

import torch


def load(pkg_dir, alias):
    d = Path(pkg_dir); name = d.name
    spec = importlib.util.spec_from_file_location(alias, d / name / "__init__.py", submodule_search_locations=[str(d / name)])
    m = importlib.util.module_from_spec(spec); sys.modules[alias] = m; spec.loader.exec_module(m)
    return m


def main():
    dev = "cuda"
    b, l, h, p, n = 2, 128, 8, 64, 128
    x = torch.randn(b, l, h, p, device=dev, dtype=torch.bfloat16)
    dt = torch.rand(b, l, h, device=dev); A = -torch.rand(h, device=dev)
    B = torch.randn(b, l, 1, n, device=dev, dtype=torch.bfloat16); C = torch.randn_like(B)
    D = torch.randn(h, device=dev); bias = torch.randn(h, device=dev)
    for i, d in enumerate(sys.argv[1:]):
        m = load(d, f"pkg{i}")
        f = lambda: m.mamba_chunk_scan_combined(x, dt, A, B, C, 256, D=D, dt_bias=bias, dt_softplus=True)
        for _ in range(30): f()
        torch.cuda.synchronize()
        N = 500; t = time.perf_counter()
        for _ in range(N): f()
        host = (time.perf_counter() - t) / N * 1e6
        torch.cuda.synchronize(); wall = (time.perf_counter() - t) / N * 1e6
        print(f"{d}: host {host:.1f} us/call, wall {wall:.1f} us/call")
        if i == 0:
            pr = cProfile.Profile(); pr.enable()
            for _ in range(200): f()
            pr.disable(); s = io.StringIO()
            pstats.Stats(pr, stream=s).sort_stats("tottime").print_stats(14); print(s.getvalue()[-3500:])


if __name__ == "__main__":
    main()
