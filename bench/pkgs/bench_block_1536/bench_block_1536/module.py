# generated from bench/models/block-1536.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ce276f111d871043363d32dc37007098a1356a3db65f4054f8f567e129ec5a3c
"""BenchBlock1536: the Mamba-2 block generated from bench/models/block-1536.ts.

A drop-in for the seed's Mamba2Simple: the same constructor, state_dict keys
and initialisation, and forward(u, seq_idx=None, inference_params=None), plus
the incumbent's decode API (allocate_inference_cache, step). Only torch and
Triton are needed; on CPU set TRITON_INTERPRET=1 before importing.

The kernels and the parameter layout were generated for
    d_model=1536, expand=2, headdim=64, d_state=128, ngroups=1, d_conv=4,
    activation="swish", bias=False, conv_bias=True,
    learnable_init_states=False
and passing other values raises ValueError (change the model file and run
`pnpm gen` instead). The other arguments are used as in the seed, except:
- use_mem_eff_path is accepted and ignored: the seed's two paths compute the
  same result, and this module has only the fused one;
- layer_idx names the layer's entry in inference_params.key_value_memory_dict.
The decode state ssm_state is fp32 unless ssm_state_dtype says otherwise (the
class attribute, or allocate_inference_cache's argument).
"""
from __future__ import annotations

import math
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

# the block's forward in one call: the plain kernels when nothing needs a gradient,
# one autograd.Function with the backward kernels when something does
from .block import mamba_split_conv1d_scan
from .inference import cached_states, fill_conv_state, new_conv_state
from .varlen import check_cu_seqlens, seq_idx_from_cu_seqlens
from .kernels.ssd_decode import DecodeLayout, ssd_step

_SOURCE = "bench/models/block-1536.ts"
_ACTIVATION_ALIASES = {"silu": "swish"}
# Where z, xBC, dt sit in in_proj's output and x, B, C in the conv's, for the forward and the decode step.
_DECODE_LAYOUT = DecodeLayout(xBC=(3072, 6400), dt=(6400, 6448), x=(0, 3072), B=(3072, 3200), C=(3200, 3328), z=(0, 3072))


def _require(arg, given, generated):
    if given != generated:
        raise ValueError(
            "BenchBlock1536: got " + arg + "=" + repr(given) + ", but this package was generated for "
            + arg + "=" + repr(generated) + " and its kernels are specialised for it. Pass "
            + arg + "=" + repr(generated) + ", or change it in " + _SOURCE
            + " and regenerate with `pnpm gen`."
        )


def _check_init(dt_min: float, dt_max: float, dt_init_floor: float, A_init_range: Tuple[float, float]) -> None:
    """The initialisation arguments, checked before any maths runs on them."""
    try:
        lo, hi = (float(v) for v in A_init_range)
    except (TypeError, ValueError):
        lo = hi = math.nan
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
        raise ValueError(
            "BenchBlock1536: A_init_range=" + repr(A_init_range) + " must be two finite numbers with 0 < lo <= hi "
            "(A is drawn uniformly from it and A_log = log(A)). Use A_init_range=(1, 16), the seed's default."
        )
    if not (math.isfinite(dt_min) and math.isfinite(dt_max) and 0 < dt_min <= dt_max):
        raise ValueError(
            "BenchBlock1536: dt_min=" + repr(dt_min) + ", dt_max=" + repr(dt_max) + " must satisfy "
            "0 < dt_min <= dt_max (dt is drawn log-uniformly between them). Use dt_min=0.001, dt_max=0.1, the seed's defaults."
        )
    if not (math.isfinite(dt_init_floor) and dt_init_floor > 0):
        raise ValueError(
            "BenchBlock1536: dt_init_floor=" + repr(dt_init_floor) + " must be a finite number > 0. "
            "Use dt_init_floor=1e-4, the seed's default."
        )


def _check_input(u: torch.Tensor, d_model: int) -> torch.Size:
    """u must be [batch, seqlen, d_model]; returns its shape."""
    if isinstance(u, torch.Tensor) and u.dim() == 3 and u.shape[-1] == d_model:
        return u.shape
    got = "a " + type(u).__name__
    hint = ""
    if isinstance(u, torch.Tensor):
        got = "shape " + str(tuple(u.shape))
        if u.dim() == 2 and u.shape[-1] == d_model:
            hint = " For one sequence add the batch dimension: u.unsqueeze(0)."
    raise ValueError(
        "BenchBlock1536.forward: u must be a [batch, seqlen, d_model=" + str(d_model) + "] tensor, got " + got + "." + hint
    )


class _NormWeight(nn.Module):
    """Holds `weight` (and eps) like the seed's RMSNormGated; the maths is in kernels.norm."""

    def __init__(self, d, eps, device=None, dtype=None):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d, device=device, dtype=dtype))


class BenchBlock1536(nn.Module):
    ssm_state_dtype = torch.float32

    def __init__(
        self,
        d_model: int,
        d_state: int = 128,
        d_conv: int = 4,
        conv_init: Optional[float] = None,
        expand: float = 2,
        headdim: int = 64,
        ngroups: int = 1,
        A_init_range: Tuple[float, float] = (1, 16),
        dt_min: float = 0.001,
        dt_max: float = 0.1,
        dt_init_floor: float = 0.0001,
        dt_limit: Tuple[float, float] = (0.0, float("inf")),
        learnable_init_states: bool = False,
        activation: str = "swish",
        bias: bool = False,
        conv_bias: bool = True,
        chunk_size: int = 256,
        use_mem_eff_path: bool = True,
        layer_idx: Optional[int] = None,
        device: Optional[Union[torch.device, str]] = None,
        dtype: Optional[torch.dtype] = None,
    ) -> None:
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        activation = _ACTIVATION_ALIASES.get(activation, activation)
        _require("d_model", d_model, 1536)
        _require("expand", expand, 2)
        _require("headdim", headdim, 64)
        _require("d_state", d_state, 128)
        _require("ngroups", ngroups, 1)
        _require("d_conv", d_conv, 4)
        _require("activation", activation, "swish")
        _require("bias", bias, False)
        _require("conv_bias", conv_bias, True)
        _require("learnable_init_states", learnable_init_states, False)
        _check_init(dt_min, dt_max, dt_init_floor, A_init_range)
        self.d_model = d_model
        self.d_state = d_state
        self.d_conv = d_conv
        self.conv_init = conv_init
        self.expand = expand
        self.d_inner = 3072
        self.d_ssm = 3072
        self.headdim = headdim
        self.ngroups = ngroups
        self.nheads = 48
        self.dt_limit = tuple(dt_limit)
        self.learnable_init_states = learnable_init_states
        self.activation = activation
        self.chunk_size = chunk_size
        self.use_mem_eff_path = use_mem_eff_path
        self.layer_idx = layer_idx

        # Parameters are created in the seed's order, so the same torch seed gives the same init.
        self.in_proj = nn.Linear(self.d_model, 6448, bias=bias, **factory_kwargs)
        self.conv1d = nn.Conv1d(
            in_channels=3328,
            out_channels=3328,
            bias=conv_bias,
            kernel_size=d_conv,
            groups=3328,
            padding=d_conv - 1,
            **factory_kwargs,
        )
        if self.conv_init is not None:
            nn.init.uniform_(self.conv1d.weight, -self.conv_init, self.conv_init)

        # dt log-uniform in [dt_min, dt_max], floored, stored as its inverse softplus.
        dt = torch.exp(
            torch.rand(self.nheads, **factory_kwargs) * (math.log(dt_max) - math.log(dt_min))
            + math.log(dt_min)
        )
        dt = torch.clamp(dt, min=dt_init_floor)
        inv_dt = dt + torch.log(-torch.expm1(-dt))
        self.dt_bias = nn.Parameter(inv_dt)
        self.dt_bias._no_weight_decay = True

        A = torch.empty(self.nheads, dtype=torch.float32, device=device).uniform_(*A_init_range)
        self.A_log = nn.Parameter(torch.log(A).to(dtype=dtype))
        self.A_log._no_weight_decay = True
        self.D = nn.Parameter(torch.ones(48, device=device))
        self.D._no_weight_decay = True
        self.norm = _NormWeight(self.d_ssm, eps=0.00001, **factory_kwargs)
        self.out_proj = nn.Linear(self.d_inner, self.d_model, bias=bias, **factory_kwargs)

    def forward(self, u: torch.Tensor, seq_idx: Optional[torch.Tensor] = None, inference_params=None,
                cu_seqlens: Optional[torch.Tensor] = None) -> torch.Tensor:
        """u: [B, L, d_model] -> [B, L, d_model]. seq_idx: [B, L] int32, optional (packed sequences).
        cu_seqlens: [nseq + 1] int32 (batch 1, sequences packed along time): the conv and the
        scan keep them apart; with inference_params the cache holds nseq sequences.

        inference_params (InferenceParams): seqlen_offset == 0 runs this forward and
        stores the decode state in key_value_memory_dict[layer_idx]; > 0 runs step (L = 1).
        """
        batch, seqlen, _ = _check_input(u, self.d_model)
        if cu_seqlens is not None:
            check_cu_seqlens(cu_seqlens, seqlen, batch, "BenchBlock1536: cu_seqlens")
            if seq_idx is None:
                seq_idx = seq_idx_from_cu_seqlens(cu_seqlens, seqlen)
        conv_state = ssm_state = None
        if inference_params is not None:
            conv_state, ssm_state = cached_states(
                inference_params, self.layer_idx, batch if cu_seqlens is None else cu_seqlens.shape[0] - 1,
                self.allocate_inference_cache, "BenchBlock1536"
            )
            if inference_params.seqlen_offset > 0:
                return self.step(u, conv_state, ssm_state)[0]
        zxbcdt = F.linear(u, self.in_proj.weight, self.in_proj.bias)
        if conv_state is not None:
            fill_conv_state(conv_state, zxbcdt[..., 3072:6400], seq_idx=seq_idx, cu_seqlens=cu_seqlens)
        # split, conv, scan and norm in one
        # call (block.py): its forward takes views of zxbcdt, and its backward has the kernels
        # write their columns of one d_zxbcdt buffer (no split cats)
        y = mamba_split_conv1d_scan(
            zxbcdt,
            self.conv1d.weight[:, 0, :],
            self.conv1d.bias,
            -torch.exp(self.A_log.float()),
            _DECODE_LAYOUT,
            self.chunk_size,
            headdim=self.headdim,
            d_state=self.d_state,
            D=self.D,
            gate_z=False,
            dt_bias=self.dt_bias,
            dt_softplus=True,
            dt_limit=self.dt_limit,
            initial_states=None,
            seq_idx=seq_idx,
            activation="silu",
            norm_weight=self.norm.weight,
            norm_eps=self.norm.eps,
            norm_group_size=None,
            norm_gated=True,
            norm_before_gate=False,
            cu_seqlens=cu_seqlens,
            return_final_states=ssm_state is not None and cu_seqlens is None,
            return_varlen_states=ssm_state is not None and cu_seqlens is not None,
        )
        if ssm_state is not None:
            y, final_states = y
            ssm_state.copy_(final_states)
        return F.linear(y, self.out_proj.weight, self.out_proj.bias)

    def allocate_inference_cache(self, batch_size, max_seqlen, dtype=None, ssm_state_dtype=None, **kwargs):
        """The decode state of an empty sequence: (conv_state [batch_size, conv_dim, d_conv]
        zeros in dtype (default: the conv weight's), ssm_state [batch_size, nheads, headdim,
        d_state] in ssm_state_dtype (default self.ssm_state_dtype, fp32)).
        max_seqlen is accepted for the incumbent's signature; the state does not grow."""
        device = self.out_proj.weight.device
        conv_dtype = self.conv1d.weight.dtype if dtype is None else dtype
        conv_state = new_conv_state(batch_size, 3328, self.d_conv, conv_dtype, device)
        ssm_state = torch.zeros(
            batch_size, self.nheads, self.headdim, self.d_state, device=device,
            dtype=self.ssm_state_dtype if ssm_state_dtype is None else ssm_state_dtype,
        )
        return conv_state, ssm_state

    def step(self, hidden_states, conv_state, ssm_state):
        """One token per sequence: hidden_states [B, 1, d_model] -> (out [B, 1, d_model],
        conv_state, ssm_state); both states are updated in place. Inference only (no backward)."""
        if hidden_states.dim() != 3 or hidden_states.shape[1] != 1:
            raise ValueError(
                f"BenchBlock1536.step: hidden_states must be [batch, 1, d_model] (one token), got "
                f"{tuple(hidden_states.shape)}. Run the prompt through forward(u, inference_params=p) first."
            )
        zxbcdt = F.linear(hidden_states[:, 0], self.in_proj.weight, self.in_proj.bias)
        y = ssd_step(
            zxbcdt,
            conv_state,
            self.conv1d.weight,
            self.conv1d.bias,
            ssm_state,
            self.A_log,
            _DECODE_LAYOUT,
            headdim=self.headdim,
            dt_bias=self.dt_bias,
            D=self.D,
            dt_softplus=True,
            dt_limit=self.dt_limit,
            activation="silu",
            gate_z=False,
            norm_weight=self.norm.weight,
            norm_eps=self.norm.eps,
            norm_group_size=3072,
            norm_gated=True,
            norm_before_gate=False,
        )
        out = F.linear(y, self.out_proj.weight, self.out_proj.bias)
        return out.unsqueeze(1), conv_state, ssm_state
