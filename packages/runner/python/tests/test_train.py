"""mamba2_runner.train: the reference backend (ref_block) and its gradients, and a
two-step smoke run of both backends (--tiny) that writes its outputs, on the
package under test (conftest.pkg_dir: on CPU the seed's structure at toy sizes,
test/fixtures/pkgs/e2e_tiny; on a GPU kernels-out/mamba2_simple)."""
from __future__ import annotations

import importlib
import json
import math

import torch

from mamba2_runner.checks import rel_err
from mamba2_runner.pkgload import load_generated, load_ir, read_manifest
from mamba2_runner.reference import ref_block
from mamba2_runner.train import main, max_rel_gap, mqar_batch, reference_forward

from conftest import pkg_dir


def test_the_reference_backend_is_ref_block_and_carries_gradients_to_every_block_parameter():
    pkg = load_generated(pkg_dir())
    manifest = read_manifest(pkg_dir())
    block = getattr(pkg, manifest["className"])(importlib.import_module(f"{manifest['name']}._config").D_MODEL)
    ir = load_ir(pkg_dir())
    u = torch.randn(2, 9, block.in_proj.weight.shape[1])
    out = reference_forward(block, ir, u)
    assert out.dtype == torch.float32
    assert rel_err(out, ref_block(ir, block.state_dict(), u)) < 1e-6  # the same maths, cast to fp32
    out.pow(2).sum().backward()
    params = dict(block.named_parameters())
    missing = [k for k, p in params.items() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert params and not missing, missing
    assert all(p.grad.abs().sum() > 0 for k, p in params.items() if k != "init_states"), \
        {k: p.grad.abs().sum().item() for k, p in params.items()}


def test_recall_batches_score_only_the_answers_and_each_answer_is_the_queried_value():
    gen = torch.Generator().manual_seed(0)
    tokens, targets, mask = mqar_batch(gen, 3, 4, 20, 32, "cpu")
    assert tokens.shape == (3, 20) and mask.sum().item() == 3 * 6
    for row in range(3):
        kv = dict(zip(tokens[row, 0:8:2].tolist(), tokens[row, 1:8:2].tolist()))
        for pos in mask[row].nonzero().flatten().tolist():
            assert targets[row, pos].item() == kv[tokens[row, pos].item()]


def test_max_rel_gap_is_the_largest_pointwise_relative_difference():
    assert math.isclose(max_rel_gap([1.0, 2.2], [1.0, 2.0]), 0.1)


def test_two_tiny_steps_of_both_backends_write_losses_and_a_figure(tmp_path, capsys):
    # two steps: the second runs on weights the first step's optimizer update changed, which is all a
    # third adds (each generated step is ~4 s in the interpreter)
    rc = main(["--pkg", str(pkg_dir()), "--tiny", "--steps", "2", "--backend", "both", "--out", str(tmp_path)])
    assert rc == 0
    data = json.loads((tmp_path / "losses.json").read_text())
    for be in ("generated", "reference"):
        losses = data["results"][be]["loss"]
        assert len(losses) == 2 and all(math.isfinite(v) for v in losses)
    # same weights, same batches: the first losses agree to fp32 precision
    assert abs(data["results"]["generated"]["loss"][0] - data["results"]["reference"]["loss"][0]) < 1e-3
    assert data["max_rel_loss_gap"] < 1e-2
    assert (tmp_path / "loss.png").exists() or (tmp_path / "loss.svg").exists()
    assert "largest relative gap" in capsys.readouterr().out
