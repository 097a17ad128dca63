// The d_model 2560 block of ../shared/BENCH_TARGETS.md's whole-block rows (the seed's defaults otherwise).
import { mamba2 } from '@mamba2/dsl';

export default mamba2({ dModel: 2560, name: 'bench_block_2560' });
