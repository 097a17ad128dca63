"""Fixtures of the kernel library's tests: the device (CUDA if present, else
CPU under Triton's interpreter), the seed, and poisoned allocations.

The tests import `mamba2_kernels` directly (PYTHONPATH has
packages/kernels/python, see scripts/pytest.sh) and compare against the one
float64 reference, mamba2_runner.reference.
"""
from __future__ import annotations

import os

from mamba2_runner.pkgload import select_device

DEVICE = select_device()  # sets TRITON_INTERPRET=1 before any kernel is imported

import pytest  # noqa: E402
import torch  # noqa: E402

from interp_speedup import install as _install_interp_speedup  # noqa: E402

_install_interp_speedup()  # on CPU: skip the interpreter's no-op re-patch per helper call

# Fresh random inputs every run; the seed is printed so a failure can be replayed
# with MAMBA2_SEED=<seed> (scripts/pytest.sh picks one seed for both test trees).
SEED = int(os.environ.get("MAMBA2_SEED", int.from_bytes(os.urandom(4), "little")))


def pytest_report_header(config):
    return f"mamba2_kernels: device={DEVICE} seed={SEED} (replay with MAMBA2_SEED={SEED})"


@pytest.fixture(scope="session")
def device() -> str:
    return DEVICE


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(SEED)


@pytest.fixture
def poison(monkeypatch):
    """While the test runs, torch.empty and torch.empty_like (how the wrappers
    allocate outputs and scratch) return poisoned memory: NaN, or a large
    integer, so an element a kernel forgets to write fails the comparison."""
    real_empty, real_empty_like = torch.empty, torch.empty_like

    def fill(t):
        if t.is_floating_point():
            t.fill_(float("nan"))
        elif t.dtype != torch.bool:
            t.fill_(torch.iinfo(t.dtype).max // 2)
        return t

    monkeypatch.setattr(torch, "empty", lambda *a, **k: fill(real_empty(*a, **k)))
    monkeypatch.setattr(torch, "empty_like", lambda *a, **k: fill(real_empty_like(*a, **k)))


# ssd_fused_fwd picks one of three paths by problem size: the one-launch walk
# (small problems), the dt/cumsum pre-kernel + transposed walk, and the same
# with split-L (too few programs for the SMs). The CPU shapes here are small, so
# every scan test runs once per fused path with the dispatch forced (a forced
# path fails if another one's kernel launches), and once on the chunked kernels.
IMPLS = ("fused-one-launch", "fused-pre", "fused-split", "chunked")


class _Forbidden:
    def __init__(self, what):
        self.what = what

    def __getitem__(self, grid):
        raise AssertionError(f"{self.what} launched while another path was forced")


def force_fused_path(monkeypatch, path):
    """Make ssd_fused_fwd take `path` ('one-launch', 'pre' or 'split')."""
    from mamba2_kernels.kernels import ssd_fused as mod
    from mamba2_kernels.kernels import ssd_fused_dispatch as policy

    if path == "one-launch":
        monkeypatch.setattr(policy, "PRE_MIN_STEPS", 1 << 60)
        monkeypatch.setattr(mod, "_ssd_fused_T_kernel", _Forbidden("the transposed walk"))
    else:
        monkeypatch.setattr(policy, "PRE_MIN_STEPS", 0)
        monkeypatch.setattr(mod, "_ssd_fused_fwd_kernel", _Forbidden("the one-launch walk"))
    if path == "split":
        monkeypatch.setattr(policy, "SPLIT_MIN_SEG_CHUNKS", 1)
        monkeypatch.setattr(policy, "sm_count", lambda device: 1 << 20)


@pytest.fixture
def force_path(monkeypatch):
    """force_fused_path bound to the test's monkeypatch: force_path("split").
    (A fixture, because `from conftest import ...` is ambiguous when the
    runner's tests, with their own conftest, are collected in the same run.)"""
    return lambda path: force_fused_path(monkeypatch, path)


@pytest.fixture(params=IMPLS)
def impl(request, monkeypatch):
    """The `impl` argument of the call ('fused' or 'chunked'), with the fused path forced."""
    if request.param.startswith("fused-"):
        force_fused_path(monkeypatch, request.param[len("fused-"):])
        return "fused"
    return request.param
