# generated from bench/models/block-1536.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ce276f111d871043363d32dc37007098a1356a3db65f4054f8f567e129ec5a3c
# copied from packages/kernels/python/mamba2_kernels/language_model.py
"""The language model around a generated layer, with the incumbent's layout.

`MambaLMHeadModelBase` is mamba_ssm's MambaLMHeadModel for a Mamba-2 layer
class (set `layer_cls` in a subclass; the generated package's lm.py does): an embedding,
n_layer pre-norm residual blocks (residual = hidden + residual;
hidden = mixer(rmsnorm(residual)), residual kept in fp32 when
residual_in_fp32), the final norm_f and a lm_head tied to the embedding.
state_dict keys: backbone.embedding.weight, backbone.layers.{i}.norm.weight,
backbone.layers.{i}.mixer.<layer keys>, backbone.norm_f.weight, lm_head.weight.

`from_pretrained(local_dir)` reads config.json and pytorch_model.bin from a
local folder (nothing is downloaded); `generate` decodes with the layers'
inference cache (prefill, then one step per token), optionally replaying the
step as a CUDA graph (cg=True).
"""
from __future__ import annotations

import json
import math
import os
from collections import namedtuple
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .inference import InferenceParams

CausalLMOutput = namedtuple("CausalLMOutput", ["logits"])
GreedySearchDecoderOnlyOutput = namedtuple("GreedySearchDecoderOnlyOutput", ["sequences", "scores"])


@dataclass
class MambaConfig:
    """config.json of a mamba_ssm language model (mamba_ssm.models.config_mamba)."""

    d_model: int = 2560
    d_intermediate: int = 0
    n_layer: int = 64
    vocab_size: int = 50277
    ssm_cfg: Dict[str, Any] = field(default_factory=dict)
    attn_layer_idx: List[int] = field(default_factory=list)
    attn_cfg: Dict[str, Any] = field(default_factory=dict)
    rms_norm: bool = True
    residual_in_fp32: bool = True
    fused_add_norm: bool = True
    pad_vocab_size_multiple: int = 8
    tie_embeddings: bool = True

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "MambaConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


class RMSNorm(nn.Module):
    """rmsnorm(x) * weight over the last axis, statistics in fp32 (eps 1e-5)."""

    def __init__(self, d, eps=1e-5, device=None, dtype=None):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d, device=device, dtype=dtype))

    def forward(self, x):
        xf = x.float()
        out = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight.float()
        return out.to(self.weight.dtype)


class Block(nn.Module):
    def __init__(self, d_model, mixer, residual_in_fp32, eps, device=None, dtype=None):
        super().__init__()
        self.residual_in_fp32 = residual_in_fp32
        self.norm = RMSNorm(d_model, eps=eps, device=device, dtype=dtype)
        self.mixer = mixer

    def forward(self, hidden_states, residual=None, inference_params=None):
        residual = hidden_states if residual is None else hidden_states + residual
        hidden_states = self.norm(residual.to(self.norm.weight.dtype))
        if self.residual_in_fp32:
            residual = residual.float()
        return self.mixer(hidden_states, inference_params=inference_params), residual

    def allocate_inference_cache(self, batch_size, max_seqlen, dtype=None, **kwargs):
        return self.mixer.allocate_inference_cache(batch_size, max_seqlen, dtype=dtype, **kwargs)


class MixerModel(nn.Module):
    def __init__(self, config: MambaConfig, vocab_size, layer_cls, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        ssm_cfg = {k: v for k, v in (config.ssm_cfg or {}).items() if k != "layer"}
        self.embedding = nn.Embedding(vocab_size, config.d_model, **kw)
        self.layers = nn.ModuleList(
            Block(config.d_model, layer_cls(config.d_model, layer_idx=i, **ssm_cfg, **kw),
                  config.residual_in_fp32, 1e-5, **kw)
            for i in range(config.n_layer)
        )
        self.norm_f = RMSNorm(config.d_model, eps=1e-5, **kw)

    def forward(self, input_ids, inference_params=None):
        hidden_states = self.embedding(input_ids)
        residual = None
        for layer in self.layers:
            hidden_states, residual = layer(hidden_states, residual, inference_params=inference_params)
        residual = hidden_states if residual is None else hidden_states + residual
        return self.norm_f(residual.to(self.norm_f.weight.dtype))


def _check_config(config: MambaConfig, layer_cls, source: str):
    """The parts of mamba_ssm's config this package does not build, with the fix."""
    layer = (config.ssm_cfg or {}).get("layer", "Mamba1")
    if layer not in (layer_cls.__name__, "Mamba2"):
        raise ValueError(
            f"{source}: ssm_cfg.layer is {layer!r}, but this package's layer is {layer_cls.__name__} "
            f"(a Mamba-2 layer). Use a Mamba-2 checkpoint, or generate a package for that layer."
        )
    if config.d_intermediate:
        raise ValueError(
            f"{source}: d_intermediate is {config.d_intermediate}; the MLP blocks between layers are not "
            f"built here. Use a checkpoint with d_intermediate 0 (every mamba2-* model has it)."
        )
    if config.attn_layer_idx:
        raise ValueError(
            f"{source}: attn_layer_idx {config.attn_layer_idx} asks for attention layers, which this "
            f"package does not have. Use a pure Mamba-2 checkpoint (attn_layer_idx [])."
        )
    if not config.rms_norm:
        raise ValueError(f"{source}: rms_norm false (LayerNorm blocks) is not built here; use rms_norm true.")


def sample(logits, top_k=1, top_p=0.0, temperature=1.0):
    """Next tokens from logits [batch, vocab]: greedy when top_k == 1, else
    temperature, then top-k and top-p (nucleus) filtering, then a draw."""
    if top_k == 1:
        return logits.argmax(dim=-1)
    logits = logits.float() / max(float(temperature), 1e-8)
    if top_k > 0:
        kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[..., -1, None]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if 0.0 < top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cum = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        # drop a token when the tokens before it already hold top_p of the mass
        drop_sorted = (cum - sorted_logits.softmax(dim=-1)) >= top_p
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return torch.multinomial(logits.softmax(dim=-1), num_samples=1)[:, 0]


class MambaLMHeadModelBase(nn.Module):
    """mamba_ssm's MambaLMHeadModel(config, initializer_cfg=None, device=None, dtype=None)."""

    layer_cls = None  # the generated layer class; set by the generated subclass

    def __init__(self, config, initializer_cfg=None, device=None, dtype=None):
        super().__init__()
        if isinstance(config, dict):
            config = MambaConfig.from_dict(config)
        _check_config(config, self.layer_cls, type(self).__name__)
        self.config = config
        vocab_size = config.vocab_size
        m = config.pad_vocab_size_multiple
        if vocab_size % m:
            vocab_size += m - vocab_size % m
        self.backbone = MixerModel(config, vocab_size, self.layer_cls, device=device, dtype=dtype)
        self.lm_head = nn.Linear(config.d_model, vocab_size, bias=False, device=device, dtype=dtype)
        with torch.no_grad():
            nn.init.normal_(self.backbone.embedding.weight, std=0.02)
        if config.tie_embeddings:
            self.lm_head.weight = self.backbone.embedding.weight

    def allocate_inference_cache(self, batch_size, max_seqlen, dtype=None, **kwargs):
        return {
            i: layer.allocate_inference_cache(batch_size, max_seqlen, dtype=dtype, **kwargs)
            for i, layer in enumerate(self.backbone.layers)
        }

    def forward(self, input_ids, position_ids=None, inference_params=None, num_last_tokens=0, **kwargs):
        """input_ids [batch, seqlen] -> CausalLMOutput(logits [batch, seqlen or num_last_tokens, vocab])."""
        hidden_states = self.backbone(input_ids, inference_params=inference_params)
        if num_last_tokens > 0:
            hidden_states = hidden_states[:, -num_last_tokens:]
        return CausalLMOutput(logits=self.lm_head(hidden_states))

    @classmethod
    def from_pretrained(cls, local_dir, device=None, dtype=None, **kwargs):
        """config.json + pytorch_model.bin from a local folder (the incumbent's layout)."""
        cfg_path = os.path.join(local_dir, "config.json")
        bin_path = os.path.join(local_dir, "pytorch_model.bin")
        for p in (cfg_path, bin_path):
            if not os.path.isfile(p):
                raise FileNotFoundError(
                    f"{cls.__name__}.from_pretrained: {p} does not exist. Pass a folder holding config.json and "
                    f"pytorch_model.bin (e.g. a local copy of state-spaces/mamba2-130m); nothing is downloaded."
                )
        with open(cfg_path) as f:
            config = MambaConfig.from_dict(json.load(f))
        model = cls(config, device=device, dtype=dtype, **kwargs)
        state = torch.load(bin_path, map_location=device or "cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
        return model

    def save_pretrained(self, save_directory):
        """config.json + pytorch_model.bin, loadable by mamba_ssm and by from_pretrained."""
        os.makedirs(save_directory, exist_ok=True)
        torch.save(self.state_dict(), os.path.join(save_directory, "pytorch_model.bin"))
        with open(os.path.join(save_directory, "config.json"), "w") as f:
            json.dump(self.config.__dict__, f, indent=2)

    @torch.inference_mode()
    def generate(self, input_ids, max_length, top_k=1, top_p=0.0, min_p=0.0, temperature=1.0,
                 return_dict_in_generate=False, output_scores=False, eos_token_id=None, cg=False, **kwargs):
        """Tokens until max_length (prompt included): prefill once, then one cached step per token.
        top_k 1 is greedy. cg=True replays the decode step as a CUDA graph (CUDA only).
        Returns sequences [batch, <= max_length], or (sequences, scores) when return_dict_in_generate."""
        batch, prompt_len = input_ids.shape
        if min_p:
            raise ValueError(f"min_p {min_p} is not supported here; use top_k / top_p (min_p=0.0)")
        if max_length <= prompt_len:
            raise ValueError(f"max_length {max_length} must exceed the prompt length {prompt_len}")
        params = InferenceParams(max_seqlen=max_length, max_batch_size=batch)
        logits = self(input_ids, inference_params=params, num_last_tokens=1).logits[:, -1]
        params.seqlen_offset = prompt_len
        step = _GraphedStep(self, params, batch) if cg else None
        tokens, scores = [input_ids], []
        done = torch.zeros(batch, dtype=torch.bool, device=input_ids.device)
        for _ in range(max_length - prompt_len):
            if output_scores:
                scores.append(logits)
            nxt = sample(logits, top_k=top_k, top_p=top_p, temperature=temperature)
            tokens.append(nxt[:, None])
            if eos_token_id is not None:
                done |= nxt == eos_token_id
                if bool(done.all()):
                    break
            if len(tokens) - 1 == max_length - prompt_len:
                break
            if step is not None:
                logits = step(nxt)
            else:
                logits = self(nxt[:, None], inference_params=params).logits[:, -1]
            params.seqlen_offset += 1
        sequences = torch.cat(tokens, dim=1)
        if return_dict_in_generate:
            return GreedySearchDecoderOnlyOutput(sequences=sequences, scores=tuple(scores) if output_scores else None)
        return sequences


class _GraphedStep:
    """One decode step of the whole model captured as a CUDA graph and replayed:
    static token input, static logits output, the layers' caches in place."""

    def __init__(self, model, params, batch):
        if not torch.cuda.is_available() or model.lm_head.weight.device.type != "cuda":
            raise ValueError("generate(cg=True) needs the model on a CUDA device; use cg=False on CPU")
        dev = model.lm_head.weight.device
        self.model, self.params = model, params
        self.tokens = torch.zeros(batch, 1, dtype=torch.long, device=dev)
        stream = torch.cuda.Stream(device=dev)
        stream.wait_stream(torch.cuda.current_stream(dev))
        saved = {k: (c.clone(), s.clone()) for k, (c, s) in params.key_value_memory_dict.items()}
        with torch.cuda.stream(stream):
            for _ in range(2):  # warm up: compile the kernels outside the capture
                model(self.tokens, inference_params=params)
        torch.cuda.current_stream(dev).wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.logits = model(self.tokens, inference_params=params).logits[:, -1]
        # the warm-up and the capture stepped the caches: put the prefill's state back
        for k, (c, s) in saved.items():
            params.key_value_memory_dict[k][0].copy_(c)
            params.key_value_memory_dict[k][1].copy_(s)

    def __call__(self, tokens):
        self.tokens.copy_(tokens[:, None])
        self.graph.replay()
        return self.logits.clone()
