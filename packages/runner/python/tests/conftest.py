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

import pytest  # noqa: E402
import torch  # noqa: E402


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
