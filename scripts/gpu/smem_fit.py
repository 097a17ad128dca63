"""Fit the shared-memory bounds of kernels/smem.py to sm_90 builds.

    .venv/bin/python scripts/gpu/smem_fit.py bench/results/2026-12-01c-sm90-smem.csv

The CSV holds metadata.shared of every build measured with scripts/gpu/smem.py
(one row per kernel, dtype, z, seq, split, warps, CHUNK Q, BLOCK_P P,
BLOCK_N N, num_stages). For each class (kernel, element bytes, z, P >= 64)
this solves a linear program: the coefficients (bytes per unit, >= 0) of

    bound = (max(stages, 2) - 1) * (a QP + b QN + c PN + d Q + e)     (the loop's pipelined loads)
            + (f QP + g QN + h PN + i QQ + j Q + k P + l N + m)        (what the rest keeps live)

with bound >= every measured build of the class, minimising the relative
overshoot (weighted x20 between 0.5 and 1.3 times the H200 limit, where a
loose bound would refuse launches that fit). Coefficients are rounded up to
1/8 byte. fused_T at 1 stage (no pipelining, another allocation) has no
class: kernels/smem.py moves it to 2 stages. The chunked kernels' Q is min(Q, 64)
(chunk_scan, BLOCK_M) and min(Q, 32) (chunk_state, BLOCK_K). Prints the table for kernels/smem.py.
Needs scipy (not in the project venv: pip install --target DIR scipy, then
PYTHONPATH=DIR).
"""
from __future__ import annotations

import collections
import csv
import math
import sys

LIMIT = 232448
PIPE = ("QP", "QN", "PN", "Q", "1")
LIVE = ("QP", "QN", "PN", "QQ", "Q", "P", "N", "1")
# kernels whose tiles stop growing with CHUNK: chunk_scan's BLOCK_M = min(Q, 64), chunk_state's BLOCK_K = min(Q, 32)
Q_TILE = {"chunk_scan": 64, "chunk_state": 32}


def mono(name, q, p, n):
    return {"QP": q * p, "QN": q * n, "PN": p * n, "QQ": q * q, "Q": q, "P": p, "N": n, "1": 1}[name]


def classes(path):
    """class key -> [(Q, P, N, stages, shared)] (class: kernel, element bytes, z, P >= 64)."""
    out = collections.defaultdict(set)
    for r in csv.DictReader(open(path)):
        q, p, n, s, v = (int(r[k]) for k in ("Q", "P", "N", "stages", "shared"))
        k, e, z = r["kernel"], 4 if r["dtype"] == "fp32" else 2, int(r["z"])
        q = min(q, Q_TILE.get(k, q))  # the chunked kernels tile CHUNK by BLOCK_M / BLOCK_K
        if k in ("bwd_walk_fwd", "state_T", "chunk_state"):
            z = 0  # these kernels take no z
        if k == "bwd_walk_rev":
            z = 1  # one class: the reverse walk is bounded with its z load (measured with z)
        if k == "bwd_chunk" and s == 1:
            continue  # never launched at 1 stage (kernels/smem.py picks 3 or 2)
        if k == "fused_T" and s == 1:
            continue  # kernels/smem.py moves a 1-stage T walk to 2 stages
        out[(k, e, z, int(p >= 64))].add((q, p, n, s, v))
    return {c: sorted(v) for c, v in out.items()}


def fit(key, pts):
    import numpy as np
    from scipy.optimize import linprog

    rows = [[(max(s, 2) - 1) * mono(m, q, p, n) for m in PIPE] + [mono(m, q, p, n) for m in LIVE]
            for q, p, n, s, v in pts]
    a = np.array(rows, dtype=float)
    v = np.array([pt[4] for pt in pts], dtype=float)
    w = np.where((v >= 0.5 * LIMIT) & (v <= 1.3 * LIMIT), 20.0, 1.0) / np.maximum(v, 4096.0)
    res = linprog((a * w[:, None]).sum(0), A_ub=-a, b_ub=-v, bounds=[(0, None)] * a.shape[1], method="highs")
    if res.status != 0:
        raise SystemExit(f"{key}: {res.message}")
    x = [math.ceil(c * 8 - 1e-6) / 8 for c in res.x]
    assert all(float(np.dot(r, x)) >= t for r, t in zip(rows, v)), key
    return tuple(x[: len(PIPE)]), tuple(x[-len(LIVE):])


def main(path):
    print("COEF = {  # (kernel, element bytes, z, P >= 64): (pipe, live); see scripts/gpu/smem_fit.py")
    for key, pts in sorted(classes(path).items()):
        pipe, live = fit(key, pts)
        f = lambda t: "(" + ", ".join(str(int(c)) if c == int(c) else repr(c) for c in t) + ")"  # noqa: E731
        print(f"    {key!r}: ({f(pipe)}, {f(live)}),  # {len(pts)} builds")
    print("}")


if __name__ == "__main__":
    main(sys.argv[1])
