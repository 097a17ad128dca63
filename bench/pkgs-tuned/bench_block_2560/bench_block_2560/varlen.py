# generated from bench/models/block-2560.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: d314f8f23576f3ecc35b8332ab575b62c3f17b6e8e3790bb03c3ae4cbc66b5ec
# copied from packages/kernels/python/mamba2_kernels/varlen.py
"""Packed sequences (varlen): batch 1, sequences one after another along time.

cu_seqlens [nseq + 1] int32 = [0, l_1, l_1 + l_2, ..., L] marks where each
sequence starts. From it:
- seq_idx_from_cu_seqlens: seq_idx [1, L] (which sequence a position is in),
  what the scan and the conv (kernels/conv_varlen.py) use to keep sequences apart;
- scan_varlen: mamba_chunk_scan_combined(..., cu_seqlens=, return_varlen_states=True)
  returns the final state of every sequence (kernels/ssd_varlen.py, no gradient);
- varlen_conv_states: the decode conv window of every sequence (its last
  d_conv inputs, zeros before its first token), to fill a cache of batch nseq.
"""
from __future__ import annotations

import math

import torch


def check_cu_seqlens(cu_seqlens, seqlen, batch, who="cu_seqlens"):
    """cu_seqlens must be a 1-d int tensor [nseq + 1] from 0 to seqlen, for batch 1.
    Only shapes and dtypes are checked (values would need a host sync)."""
    if batch != 1:
        raise ValueError(
            f"{who}: packed sequences need batch 1 (all sequences along time), got batch {batch}. "
            f"Concatenate the sequences into one row, or pass seq_idx [batch, seqlen] instead."
        )
    if not isinstance(cu_seqlens, torch.Tensor) or cu_seqlens.dim() != 1 or cu_seqlens.shape[0] < 2:
        got = tuple(cu_seqlens.shape) if isinstance(cu_seqlens, torch.Tensor) else type(cu_seqlens).__name__
        raise ValueError(f"{who} must be a 1-d tensor [nseq + 1] = [0, ..., {seqlen}], got {got}")
    if cu_seqlens.dtype not in (torch.int32, torch.int64):
        raise TypeError(f"{who} must be int32 (or int64), got {cu_seqlens.dtype}: pass cu_seqlens.to(torch.int32)")


def seq_idx_from_cu_seqlens(cu_seqlens, seqlen):
    """seq_idx [1, seqlen] int32: position t belongs to sequence s when
    cu_seqlens[s] <= t < cu_seqlens[s + 1]."""
    t = torch.arange(seqlen, device=cu_seqlens.device, dtype=cu_seqlens.dtype)
    return (torch.searchsorted(cu_seqlens[1:].contiguous(), t, right=True)).to(torch.int32)[None]


def scan_varlen(scan, x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None,
                seq_idx=None, cu_seqlens=None, dt_softplus=False, dt_limit=(0.0, math.inf),
                return_final_states=False, return_varlen_states=False, impl=None):
    """mamba_chunk_scan_combined with cu_seqlens (`scan` is that function)."""
    if return_varlen_states and cu_seqlens is None:
        raise ValueError("return_varlen_states=True needs cu_seqlens [nseq + 1] (where each packed sequence starts)")
    check_cu_seqlens(cu_seqlens, x.shape[1], x.shape[0])
    if initial_states is not None:
        raise ValueError(
            "initial_states with cu_seqlens is not supported: every packed sequence starts from a zero state. "
            "Pass initial_states=None, or run the sequences as a batch."
        )
    if seq_idx is None:
        seq_idx = seq_idx_from_cu_seqlens(cu_seqlens, x.shape[1])
    res = scan(x, dt, A, B, C, chunk_size, D=D, z=z, dt_bias=dt_bias, seq_idx=seq_idx,
               dt_softplus=dt_softplus, dt_limit=dt_limit, return_final_states=return_final_states, impl=impl)
    if not return_varlen_states:
        return res
    states = varlen_states(x, dt, A, B, cu_seqlens, dt_bias=dt_bias, dt_softplus=dt_softplus, dt_limit=dt_limit)
    return (*res, states) if return_final_states else (res, states)


def varlen_states(x, dt, A, B, cu_seqlens, dt_bias=None, dt_softplus=False, dt_limit=(0.0, math.inf)):
    """fp32 [nseq, h, p, n]: the SSM state after the last token of each sequence (no gradient)."""
    x, dt, A, B = (t.detach() for t in (x, dt, A, B))
    dt_bias = dt_bias.detach() if dt_bias is not None else None
    if torch.compiler.is_compiling():
        from . import custom_ops

        return custom_ops.varlen_states(x, dt, A, B, cu_seqlens, dt_bias, dt_softplus, dt_limit)
    from .kernels.ssd_varlen import ssd_varlen_states

    return ssd_varlen_states(x, dt, A, B, cu_seqlens, dt_bias=dt_bias, dt_softplus=dt_softplus, dt_limit=dt_limit)


def varlen_conv_states(xBC, cu_seqlens, d_conv):
    """[nseq, conv_dim, d_conv]: the last d_conv conv inputs of each sequence,
    zeros before its first token (xBC: [1, L, conv_dim], before the conv)."""
    L = xBC.shape[1]
    end = cu_seqlens[1:].to(torch.int64)
    start = cu_seqlens[:-1].to(torch.int64)
    pos = end[:, None] - d_conv + torch.arange(d_conv, device=xBC.device)  # [nseq, d_conv]
    valid = (pos >= start[:, None]) & (pos >= 0)
    win = xBC[0, pos.clamp(0, max(L - 1, 0))]  # [nseq, d_conv, conv_dim]
    return (win * valid[..., None].to(win.dtype)).transpose(1, 2)
