"""The launch configuration (mamba2_kernels/launch.py) and the LAUNCH every
generated package carries: one schema on both sides of the TS/Python
boundary, codegen's defaults equal to the library's, each kernel section
recorded with the sha256 of the library file it is for. No kernel runs here."""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from mamba2_runner.pkgload import load_generated
from mamba2_runner.sweep_provenance import KERNEL_DEPS, kernel_set_sha, kernel_sha

ROOT = Path(__file__).resolve().parents[4]
LIBRARY = ROOT / "packages" / "kernels" / "python" / "mamba2_kernels"
PACKAGES = sorted(p.parent for p in (ROOT / "kernels-out").glob("*/manifest.json")) + sorted(
    p.parent for p in (ROOT / "bench").glob("pkgs*/*/manifest.json")
)


def _launch_module():
    """The library's launch.py on its own (it imports nothing of the library)."""
    spec = importlib.util.spec_from_file_location("mamba2_kernels_launch_under_test", LIBRARY / "launch.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


L = _launch_module()


def _config(pkg_dir: Path):
    pkg = load_generated(pkg_dir)
    return importlib.import_module(pkg.__name__ + "._config")


def _unrecorded(cfg):
    """cfg with every kernel_sha cleared (what the library's own defaults carry)."""
    sections = {f.name: dataclasses.replace(getattr(cfg, f.name), kernel_sha=None)
                for f in dataclasses.fields(cfg) if f.name in ("fused", "chunked", "bwd", "conv", "norm")}
    return dataclasses.replace(cfg, **sections)


@pytest.mark.parametrize("pkg_dir", PACKAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_manifest_json_form_reads_back_as_the_packages_launch(pkg_dir):
    cfg = _config(pkg_dir).LAUNCH
    manifest = json.loads((pkg_dir / "manifest.json").read_text())
    assert type(cfg).from_dict(manifest["launch"]) == cfg
    assert cfg.to_dict() == manifest["launch"]
    assert hash(cfg) == hash(type(cfg).from_dict(manifest["launch"]))


@pytest.mark.parametrize("pkg_dir", PACKAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_each_section_records_the_kernel_sha_over_every_library_file_its_kernel_depends_on(pkg_dir):
    cfg = _config(pkg_dir).LAUNCH
    name = json.loads((pkg_dir / "manifest.json").read_text())["name"]
    for section in (cfg.fused, cfg.chunked, cfg.bwd, cfg.conv, cfg.norm):
        files = KERNEL_DEPS[section.kernel]
        lines = "".join(f"{f} {hashlib.sha256((LIBRARY / f).read_bytes()).hexdigest()}\n" for f in sorted(files))
        assert section.kernel_sha == hashlib.sha256(lines.encode()).hexdigest(), section.kernel
        if all((pkg_dir / name / f).exists() for f in files):  # a model without a norm ships no norm kernel
            assert kernel_set_sha(pkg_dir / name, section.kernel) == section.kernel_sha, section.kernel
            assert all(kernel_sha((pkg_dir / name / f).read_text()) == kernel_sha((LIBRARY / f).read_text()) for f in files)


def test_codegen_defaults_equal_the_library_defaults():
    """mamba2_simple asks for no launch setting: its LAUNCH is codegen's heuristics."""
    cfg = _config(ROOT / "kernels-out" / "mamba2_simple").LAUNCH
    assert _unrecorded(cfg).to_dict() == L.LaunchConfig().to_dict()


def test_the_model_files_chunk_size_reaches_the_chunked_section_and_the_module_default():
    cfg = _config(ROOT / "kernels-out" / "mamba2_grouped")  # examples/mamba2-grouped.ts: chunkSize 128
    assert cfg.LAUNCH.chunked.chunk_size == 128 and cfg.CHUNK_SIZE == 128
    assert cfg.LAUNCH.fused.block_q == L.FusedScan().block_q  # the fused tile is its own setting


def test_a_launch_config_is_frozen_hashable_and_refuses_unknown_keys_and_bad_values():
    c = L.LaunchConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.scan_impl = "chunked"
    assert hash(c) == hash(L.LaunchConfig()) and c != L.LaunchConfig(fused=L.FusedScan(block_q=64))
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['blockq'\]"):
        L.LaunchConfig.from_dict({"fused": {"blockq": 16}})
    with pytest.raises(ValueError, match="fused.block_q must be a power of two in 16..256, got 24"):
        L.FusedScan(block_q=24)
    with pytest.raises(ValueError, match="scan_impl must be one of"):
        L.LaunchConfig(scan_impl="fast")


def test_tuned_rows_pick_the_smallest_covering_bucket_else_the_largest_and_other_heads_get_none():
    rows = (L.TunedRow(80, 4096, block_q=32, block_p=64), L.TunedRow(80, 16384, block_q=32, block_p=32),
            L.TunedRow(40, 2048, num_warps=8))
    c = L.LaunchConfig(tuned=L.Tuned(rows=rows, gpu="NVIDIA H200"))
    assert c.tuned_row(80, 1) == rows[0]
    assert c.tuned_row(80, 4096) == rows[0]
    assert c.tuned_row(80, 4097) == rows[1]
    assert c.tuned_row(80, 10 ** 6) == rows[1]
    assert c.tuned_row(40, 4096) == rows[2]
    assert c.tuned_row(64, 1024) is None
    assert L.LaunchConfig().tuned_row(80, 4096) is None
    again = L.LaunchConfig.from_dict(c.to_dict())
    assert again == c and again.tuned.rows == rows
