import { ConfigError } from '../errors.js';

/** A scenario definition is missing, unreadable or malformed: names the file and field (exit 2). */
export class ScenarioConfigError extends ConfigError {}
