// Invalid on purpose: headdim 48 does not divide d_inner 512, so loading fails at the headdim line.
import { mamba2 } from '@mamba2/dsl';

export default mamba2({
  dModel: 256,
  headdim: 48,
});
