export { startSim, simScriptDir, type StartSimOptions, type SimBoard } from './startSim.js';
export { SimError } from './errors.js';
export { readModelIo, type ModelIo, type TensorInfo } from '../model/io.js';
