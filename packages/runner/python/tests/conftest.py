"""Shared fixtures: the device (CUDA if present, else CPU under Triton's
interpreter) and the generated package under test (env MAMBA2_PKG, default
kernels-out/mamba2_simple)."""
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


def pkg_dir() -> Path:
    return Path(os.environ.get("MAMBA2_PKG", ROOT / "kernels-out" / "mamba2_simple"))


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
