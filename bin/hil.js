#!/usr/bin/env node
// Entry point for the `hil` command: runs the compiled CLI (built by `npm ci` through `prepare`).
import { main } from '../dist/harness/cli/main.js';
import { ignoreClosedPipe } from '../dist/harness/cli/closedPipe.js';

ignoreClosedPipe(process.stdout);
ignoreClosedPipe(process.stderr);
const code = await main();
process.exitCode = code;
