import { InfraError } from '../errors.js';

/** The simulated board could not be started or stopped. */
export class SimError extends InfraError {
  constructor(message: string) {
    super(message, 'sim');
  }
}
