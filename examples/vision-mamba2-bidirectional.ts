// Vision Mamba's two orders (the image's tokens row-major and reversed) in the same block.
import { visionMamba2 } from '@mamba2/dsl';

export default visionMamba2({
  dModel: 64,
  height: 6,
  width: 10,
  directions: 'bidirectional',
  headdim: 32,
  dState: 16,
  className: 'VisionMamba2BidirectionalBlock',
});
