// Test helper (node --import): this process cannot resolve the npm package `pg`, as on an
// install without it (a `resolve` hook through node:module register, documented API).
import { register } from 'node:module';

register('./withoutPgHooks.mjs', import.meta.url);
