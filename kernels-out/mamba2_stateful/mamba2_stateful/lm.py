# generated from examples/mamba2-stateful.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 28c133f5208b79443bad7b2823c4e58c73662dcc204c1fd05b08cd746e622021
"""MambaLMHeadModel: mamba_ssm's language model around Mamba2Stateful.

Embedding, n_layer pre-norm residual blocks of Mamba2Stateful, the final norm
and a lm_head tied to the embedding, with the incumbent's state_dict keys and
config.json, so checkpoints load both ways:

    model = MambaLMHeadModel.from_pretrained("path/to/mamba2-130m")   # a local folder
    tokens = model.generate(input_ids, max_length=64)                 # greedy (top_k=1)

The layer's constructor checks that config.json's ssm_cfg fits what this
package was generated for (d_model=256, d_state=128, headdim=64, ngroups=1, expand=2).
"""
from .language_model import CausalLMOutput, MambaConfig, MambaLMHeadModelBase, sample
from .module import Mamba2Stateful

__all__ = ["CausalLMOutput", "MambaConfig", "MambaLMHeadModel", "sample"]


class MambaLMHeadModel(MambaLMHeadModelBase):
    """mamba_ssm's MambaLMHeadModel(config, initializer_cfg=None, device=None, dtype=None)
    with Mamba2Stateful as every layer's mixer."""

    layer_cls = Mamba2Stateful
