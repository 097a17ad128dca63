# generated from bench/models/block-1536.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ce276f111d871043363d32dc37007098a1356a3db65f4054f8f567e129ec5a3c
"""MambaLMHeadModel: mamba_ssm's language model around BenchBlock1536.

Embedding, n_layer pre-norm residual blocks of BenchBlock1536, the final norm
and a lm_head tied to the embedding, with the incumbent's state_dict keys and
config.json, so checkpoints load both ways:

    model = MambaLMHeadModel.from_pretrained("path/to/mamba2-130m")   # a local folder
    tokens = model.generate(input_ids, max_length=64)                 # greedy (top_k=1)

The layer's constructor checks that config.json's ssm_cfg fits what this
package was generated for (d_model=1536, d_state=128, headdim=64, ngroups=1, expand=2).
"""
from .language_model import CausalLMOutput, MambaConfig, MambaLMHeadModelBase, sample
from .module import BenchBlock1536

__all__ = ["CausalLMOutput", "MambaConfig", "MambaLMHeadModel", "sample"]


class MambaLMHeadModel(MambaLMHeadModelBase):
    """mamba_ssm's MambaLMHeadModel(config, initializer_cfg=None, device=None, dtype=None)
    with BenchBlock1536 as every layer's mixer."""

    layer_cls = BenchBlock1536
