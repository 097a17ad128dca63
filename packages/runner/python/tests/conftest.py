"""Shared fixtures: the device (CUDA if present, else CPU under Triton's
interpreter) and the generated package under test (env MAMBA2_PKG; default:
kernels-out/mamba2_simple on a GPU, test/fixtures/pkgs/e2e_tiny on CPU)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mamba2_runner.pkgload import load_generated, select_device  # noqa: E402

DEVICE = select_device()  # sets TRITON_INTERPRET=1 before any kernel is imported

import importlib.util  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402


def _install_interp_speedup() -> bool:
    """The kernel tests' shortcut in Triton's interpreter (packages/kernels/python/
    tests/interp_speedup.py: the no-op re-patch per @triton.jit helper call
    skipped), for the generated packages' kernels run in this process."""
    path = ROOT / "packages" / "kernels" / "python" / "tests" / "interp_speedup.py"
    spec = importlib.util.spec_from_file_location("mamba2_interp_speedup", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.install()


_install_interp_speedup()


# On CPU the default package is the seed's structure at toy sizes
# (test/fixtures/e2e-tiny.ts: d_model 64, headdim 16, d_state 16, chunk 32;
# committed, reproduced by `pnpm gen:check`): the interpreter runs the same
# kernels and paths on it at about two thirds of the CPU time of mamba2_simple's
# d_model 256, headdim 64, d_state 128 (A/B on the 2-core CI machine, the
# tests that use this package: 110 -> 72 CPU-s). The tests that use it check
# the wiring and the harness, not a size; the sizes are the kernel library's
# tests' (packages/kernels/python/tests) and every example's
# (test_verify_grads.py, test_decode.py). On a GPU: the seed package.
CPU_PKG = ROOT / "test" / "fixtures" / "pkgs" / "e2e_tiny"
GPU_PKG = ROOT / "kernels-out" / "mamba2_simple"


def pkg_dir() -> Path:
    default = GPU_PKG if DEVICE == "cuda" else CPU_PKG
    return Path(os.environ.get("MAMBA2_PKG", default))


@pytest.fixture(scope="session")
def device() -> str:
    return DEVICE


@pytest.fixture(scope="session")
def gen_pkg():
    return load_generated(pkg_dir())


# Fresh random inputs every run; the seed is printed so a failure can be replayed
# with MAMBA2_SEED=<seed>.
SEED = int(os.environ.get("MAMBA2_SEED", int.from_bytes(os.urandom(4), "little")))


def pytest_report_header(config):
    return f"mamba2: device={DEVICE} seed={SEED} (replay with MAMBA2_SEED={SEED})"


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(SEED)


# Test files whose tests take the longest under the interpreter (whole generated
# packages, subprocess workers), slowest first. Collected first, so that with
# xdist (CI: -n <cores> --maxschedchunk 1, one test handed out at a time) they
# start at once, one per worker, and the short kernel tests fill in around
# them instead of a 30 s test starting last. Order only: every test still runs.
SLOW_FIRST = [
    "test_verify_grads.py", "test_verify.py", "test_train.py", "test_compile.py", "test_sweep_dist.py",
    "test_module_grad.py", "test_vision.py", "test_bench.py", "test_fused_rerun.py", "test_sweep.py",
    "test_worker.py", "test_bwd_resets.py", "test_decode.py", "test_grad.py", "test_nonfinite.py",
]


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda it: rank.get(it.path.name, len(SLOW_FIRST)))  # stable: file order kept otherwise
