/** `hil flash`: write a ROMFS image to a board and prove it landed. */
export { flashImage, type FlashOptions, type FlashResult } from './flashImage.js';
export { FlashInputError, BoardRefusedError, NoStrategyError, FlashVerifyError } from './errors.js';
export { probeBoard, type BoardFacts } from './probeBoard.js';
export { prepareImage, checkImageBytes, type PreparedImage } from './prepareImage.js';
export { preflight, misalignedModels } from './preflight.js';
export { chooseStrategy, whyNot } from './chooseStrategy.js';
export { hashBoardImage, boardBlockDigests } from './hashBoardImage.js';
export { verifyBoardImage, proveAfterReset, listRom, compareListing } from './verifyFlash.js';
export { planTransfer } from './planTransfer.js';
export { createProgress, silentProgress, type ProgressReporter } from './progress.js';
export { type QemuLoaderHook } from './strategies/qemuLoader.js';
export { decodeBoardMpy, decodeMpyHeader, mpyIncompatibility } from './mpyCompat.js';
