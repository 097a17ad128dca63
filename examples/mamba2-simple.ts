// The seed block: Mamba2Simple(256) with every default (package mamba2_simple, class Mamba2Simple).
import { mamba2 } from '@mamba2/dsl';

export default mamba2({
  dModel: 256,
});
