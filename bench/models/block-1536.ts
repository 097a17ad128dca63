// The d_model 1536 block of ../shared/BENCH_TARGETS.md's whole-block rows (the seed's defaults otherwise).
import { mamba2 } from '@mamba2/dsl';

export default mamba2({ dModel: 1536, name: 'bench_block_1536' });
