"""The generated vision block (kernels-out/vision_mamba2, from examples/vision-mamba2.ts):
the module against ref_block, its input checks, and the quadrant task of
mamba2_runner.train_vision (batches, and one step of both backends on the
bidirectional example). The full run (accuracy >= 0.95) is a GPU command:
python -m mamba2_runner.train_vision --pkg kernels-out/vision_mamba2."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from mamba2_runner.checks import rel_err
from mamba2_runner.pkgload import load_generated, load_ir, read_manifest
from mamba2_runner.reference import ref_block
from mamba2_runner.train_vision import main, quadrant_batch

ROOT = Path(__file__).resolve().parents[4]  # not `from conftest import`: both test trees have a conftest
PKG = ROOT / "kernels-out" / "vision_mamba2"
# the two-order example: the cheaper one to train a step of under the interpreter
PKG_BI = ROOT / "kernels-out" / "vision_mamba2_bidirectional"


@pytest.fixture(scope="module")
def vision():
    pkg = load_generated(PKG)
    ir = load_ir(PKG)
    return pkg, ir, getattr(pkg, read_manifest(PKG)["className"])


def test_the_block_maps_an_image_to_an_image_as_the_float64_reference_does(vision, device):
    pkg, ir, cls = vision
    m = cls(96, device=device)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.2 * torch.randn_like(p))  # D = 1, norm = 1 away from their init
    x = torch.randn(1, 8, 8, 96, device=device)
    out = m(x)
    assert out.shape == (1, 8, 8, 96)
    tol = 1e-4 if device == "cpu" else 2e-3  # verify.TOLERANCES "block", fp32
    assert rel_err(out, ref_block(ir, m.state_dict(), x)) < tol


def test_the_block_refuses_flattened_tokens_and_says_how_to_unflatten(vision):
    _, _, cls = vision
    m = cls(96)
    with pytest.raises(ValueError, match=r"\[batch, height=8, width=8, d_model=96\].*x\.unflatten\(1, \(height, width\)\)"):
        m(torch.randn(2, 64, 96))


def test_the_block_refuses_another_image_size_than_it_was_generated_for(vision):
    _, _, cls = vision
    with pytest.raises(ValueError, match=r"height=14.*generated for height=8.*pnpm gen"):
        cls(96, height=14)


def test_quadrant_batches_put_the_one_bright_patch_in_the_labelled_quadrant():
    gen = torch.Generator().manual_seed(3)
    img, label = quadrant_batch(gen, 16, 8, 6, "cpu")
    assert img.shape == (16, 8, 6) and label.shape == (16,)
    assert set(label.tolist()) <= {0, 1, 2, 3} and len(set(label.tolist())) > 1
    for i in range(16):
        ys, xs = (img[i] == 2.0).nonzero(as_tuple=True)
        assert len(ys) == 1  # side max(1, min(8, 6) // 4) = 1
        q = 2 * int(ys[0] >= 4) + int(xs[0] >= 3)
        assert q == label[i].item()


def test_one_step_of_both_backends_starts_on_the_same_loss(tmp_path):
    rc = main(["--pkg", str(PKG_BI), "--tiny", "--steps", "1", "--batch", "1", "--out", str(tmp_path)])
    assert rc == 0
    data = json.loads((tmp_path / "losses.json").read_text())
    g, r = data["results"]["generated"]["loss"], data["results"]["reference"]["loss"]
    assert len(g) == len(r) == 1 and math.isfinite(g[0])
    # same weights, same batch: the generated kernels and the float64 reference agree to fp32 precision
    assert abs(g[0] - r[0]) < 1e-4 * max(1.0, abs(r[0]))
