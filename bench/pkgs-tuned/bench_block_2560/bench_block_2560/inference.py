# generated from bench/models/block-2560.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: d314f8f23576f3ecc35b8332ab575b62c3f17b6e8e3790bb03c3ae4cbc66b5ec
# copied from packages/kernels/python/mamba2_kernels/inference.py
"""Inference state: the decode cache of every layer and how prefill fills it.

`InferenceParams` is the incumbent's (mamba_ssm.utils.generation): a layer
with `layer_idx` keeps `(conv_state, ssm_state)` in
`key_value_memory_dict[layer_idx]`; `seqlen_offset == 0` means prefill (the
full forward, which then stores the last conv inputs and the final state),
`> 0` a decode step. The caller advances `seqlen_offset`.

conv_state: [batch, conv_dim, d_conv], conv_state[..., -1] the newest conv
input (xBC before the conv), allocated channel-last like the incumbent's.
ssm_state: [batch, nheads, headdim, d_state], the SSM state after the last token.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Tuple

import torch


@dataclass
class InferenceParams:
    """The decode cache of a model: one (conv_state, ssm_state) per layer_idx."""

    max_seqlen: int
    max_batch_size: int
    seqlen_offset: int = 0
    batch_size_offset: int = 0
    key_value_memory_dict: Dict[int, Tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    lengths_per_sample: Optional[torch.Tensor] = None

    def reset(self, max_seqlen: int, max_batch_size: int) -> None:
        """Start a new sequence with the same buffers (prefill overwrites them)."""
        self.max_seqlen = max_seqlen
        self.max_batch_size = max_batch_size
        self.seqlen_offset = 0
        if self.lengths_per_sample is not None:
            self.lengths_per_sample.zero_()


def new_conv_state(batch_size: int, conv_dim: int, d_conv: int, dtype, device) -> torch.Tensor:
    """Zeros [batch, conv_dim, d_conv], channels contiguous (the step kernel reads
    one window slot of many channels at a time)."""
    return torch.zeros(batch_size, d_conv, conv_dim, dtype=dtype, device=device).transpose(1, 2)


def fill_conv_state(conv_state: torch.Tensor, xBC: torch.Tensor, seq_idx=None, cu_seqlens=None) -> None:
    """conv_state[b, c, :] <- the last d_conv inputs xBC[b, -d_conv:, c], zeros
    before the first token (the conv's left padding). xBC: [batch, seqlen, conv_dim].

    seq_idx [batch, seqlen] (packed rows): only the inputs of each row's last
    sequence, zeros before its start (what the step continues). cu_seqlens
    [nseq + 1] (batch 1): one window per sequence, conv_state [nseq, conv_dim, d_conv]."""
    w = conv_state.shape[-1]
    seqlen = xBC.shape[1]
    if cu_seqlens is not None:
        from .varlen import varlen_conv_states

        if tuple(conv_state.shape[:2]) != (cu_seqlens.shape[0] - 1, xBC.shape[2]):
            raise ValueError(
                f"conv_state has shape {tuple(conv_state.shape)} but the prefill packs {cu_seqlens.shape[0] - 1} "
                f"sequences of conv_dim {xBC.shape[2]}: allocate the cache for batch = number of sequences"
            )
        conv_state.copy_(varlen_conv_states(xBC, cu_seqlens, w))
        return
    if seq_idx is not None:
        # inputs of an earlier sequence of the row are the zero padding of the last one
        keep = (seq_idx[:, -w:] == seq_idx[:, -1:]).to(xBC.dtype)
        xBC = xBC[:, -w:] * keep[..., None]
    if tuple(conv_state.shape[:2]) != (xBC.shape[0], xBC.shape[2]):
        raise ValueError(
            f"conv_state has shape {tuple(conv_state.shape)} but the prefill's conv input is "
            f"{tuple(xBC.shape)} ([batch, seqlen, conv_dim]): allocate the cache for this batch size"
        )
    win = xBC[:, -w:].transpose(1, 2)
    if seqlen < w:
        conv_state[..., : w - seqlen].zero_()
        conv_state[..., w - seqlen:].copy_(win)
    else:
        conv_state.copy_(win)


def cached_states(
    inference_params: InferenceParams,
    layer_idx: Optional[int],
    batch_size: int,
    allocate: Callable[[int, int], Tuple[torch.Tensor, torch.Tensor]],
    who: str,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """This layer's (conv_state, ssm_state), allocated on first use."""
    if layer_idx is None:
        raise ValueError(
            f"{who}: inference_params needs the layer's layer_idx to find its cache, but layer_idx is None. "
            f"Construct the layer with layer_idx=<its index in the model>."
        )
    cache = inference_params.key_value_memory_dict
    if layer_idx not in cache:
        cache[layer_idx] = allocate(batch_size, inference_params.max_seqlen)
    conv_state, ssm_state = cache[layer_idx]
    if conv_state.shape[0] != batch_size:
        raise ValueError(
            f"{who}: the cache of layer {layer_idx} holds batch {conv_state.shape[0]}, the input has batch "
            f"{batch_size}. Use a new InferenceParams (or clear key_value_memory_dict) for a new batch size."
        )
    return conv_state, ssm_state
