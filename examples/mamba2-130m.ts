// The layer of mamba2-130m (state-spaces/mamba2-130m): mamba_ssm's Mamba2 with its defaults at d_model 768.
import { mamba2Layer } from '@mamba2/dsl';

export default mamba2Layer({ dModel: 768 });
