"""mamba2_runner.train: the reference backend's scan against ref_scan, and a
three-step smoke run of both backends (--tiny) that writes its outputs."""
from __future__ import annotations

import json
import math

import torch

from mamba2_runner.reference.scan import ref_scan
from mamba2_runner.train import main, max_rel_gap, mqar_batch, quadratic_scan

from conftest import pkg_dir


def test_quadratic_scan_of_the_reference_backend_matches_the_sequential_reference():
    b, l, h, p, g, n = 2, 37, 4, 8, 2, 16
    x = torch.randn(b, l, h, p, dtype=torch.float64)
    dt = torch.rand(b, l, h, dtype=torch.float64) * 0.2 + 0.01
    A = -torch.rand(h, dtype=torch.float64) * 2 - 0.1
    B, C = torch.randn(b, l, g, n, dtype=torch.float64), torch.randn(b, l, g, n, dtype=torch.float64)
    init = torch.randn(b, h, p, n, dtype=torch.float64)
    ref = ref_scan(x, dt, A, B, C, initial_states=init)
    out = quadratic_scan(x, dt, A, B, C, initial_states=init)
    assert torch.isfinite(out).all()
    assert ((out - ref).norm() / ref.norm()).item() < 1e-10


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


def test_three_tiny_steps_of_both_backends_write_losses_and_a_figure(tmp_path, capsys):
    rc = main(["--pkg", str(pkg_dir()), "--tiny", "--steps", "3", "--backend", "both", "--out", str(tmp_path)])
    assert rc == 0
    data = json.loads((tmp_path / "losses.json").read_text())
    for be in ("generated", "reference"):
        losses = data["results"][be]["loss"]
        assert len(losses) == 3 and all(math.isfinite(v) for v in losses)
    # same weights, same batches: the first losses agree to fp32 precision
    assert abs(data["results"]["generated"]["loss"][0] - data["results"]["reference"]["loss"][0]) < 1e-3
    assert data["max_rel_loss_gap"] < 1e-2
    assert (tmp_path / "loss.png").exists() or (tmp_path / "loss.svg").exists()
    assert "largest relative gap" in capsys.readouterr().out
