#!/usr/bin/env node
// Entry point for the `hil` command: runs the compiled CLI (built by `npm ci` through `prepare`).
import { main } from '../dist/harness/cli/main.js';

const code = await main();
process.exitCode = code;
