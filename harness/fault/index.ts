export { FaultProxy, type FaultProxyOptions, type FaultEvent, type FaultProxyStats } from './faultProxy.js';
export { seededRandom, parseRules, type FaultRule, type Trigger, type Action, type Direction } from './rule.js';
