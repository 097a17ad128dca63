// A VMamba-style vision block (SS2D) on the SSD scan: 3x3 depthwise conv, four-way cross scan over an 8x8 image.
import { visionMamba2 } from '@mamba2/dsl';

export default visionMamba2({
  dModel: 96,
  height: 8,
  width: 8,
  directions: 'cross2d',
  headdim: 32,
  dState: 16,
  className: 'VisionMamba2Block',
});
