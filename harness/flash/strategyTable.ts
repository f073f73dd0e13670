/**
 * The flash strategies by name and the strategy choice, in one module that flashImage.ts imports
 * only once a flash writes: a skip (the board already holds the image) loads none of them.
 */
import type { FlashStrategyName } from '../profile/profile.js';
import type { FlashStrategy } from './strategies/types.js';
import { qemuLoaderStrategy } from './strategies/qemuLoader.js';
import { ramStrategy } from './strategies/ram.js';
import { romIoctlStrategy } from './strategies/romIoctl.js';
import { blockdevStrategy } from './strategies/blockdev.js';
import { dfuStrategy } from './strategies/dfu.js';

export { chooseStrategy } from './chooseStrategy.js';
export { qemuLoaderHook } from './strategies/qemuLoader.js';

export const STRATEGIES: Record<FlashStrategyName, FlashStrategy> = {
  'rom-ioctl': romIoctlStrategy,
  blockdev: blockdevStrategy,
  dfu: dfuStrategy,
  ram: ramStrategy,
  'qemu-loader': qemuLoaderStrategy,
};
