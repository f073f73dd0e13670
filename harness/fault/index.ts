export { FaultProxy, type FaultProxyOptions, type FaultEvent, type FaultProxyStats } from './faultProxy.js';
export { seededRandom, parseRules, type FaultRule, type Trigger, type Action, type Direction } from './rule.js';
export { runMatrix, matrixTable, matrixTotals, ACTIONS, type MatrixCell, type MatrixPhase, type RunOutcome, type OutcomeKind } from './matrix.js';
export { runFlashMatrix, flashPhases } from './flashMatrix.js';
export { runRunMatrix, runPhases } from './runMatrix.js';
