export { Scope, SIGNAL_EXIT, scopeOf, type Held } from './scope.js';
export { guardChild, type Guard } from './guardChild.js';
export { makeTempDir, reclaimTempDirs, readOwner, OWNER_FILE } from './tempDir.js';
export { processStart, processAlive, sameProcessAlive, thisProcess, type ProcessId } from './process.js';
