# generated from examples/mamba2-layer-dssm.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 6b506ed2d21581e9224bb0cf9eb0bc4a8c5edcd8d3b57ffda137018a416ffd5d
"""MambaLMHeadModel: mamba_ssm's language model around Mamba2.

Embedding, n_layer pre-norm residual blocks of Mamba2, the final norm
and a lm_head tied to the embedding, with the incumbent's state_dict keys and
config.json, so checkpoints load both ways:

    model = MambaLMHeadModel.from_pretrained("path/to/mamba2-130m")   # a local folder
    tokens = model.generate(input_ids, max_length=64)                 # greedy (top_k=1)

The layer's constructor checks that config.json's ssm_cfg fits what this
package was generated for (d_model=128, d_state=32, headdim=32, ngroups=2, expand=2).
"""
from .language_model import CausalLMOutput, MambaConfig, MambaLMHeadModelBase, sample
from .module import Mamba2

__all__ = ["CausalLMOutput", "MambaConfig", "MambaLMHeadModel", "sample"]


class MambaLMHeadModel(MambaLMHeadModelBase):
    """mamba_ssm's MambaLMHeadModel(config, initializer_cfg=None, device=None, dtype=None)
    with Mamba2 as every layer's mixer."""

    layer_cls = Mamba2
