// Test helper (node --import): at exit, prints to stderr one line `HIL_PROFILE_READ <path>` per
// profile YAML (devices/profiles/*.yaml) this process read with fs.readFileSync.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const read = [];
const real = fs.readFileSync;
fs.readFileSync = function (path, ...rest) {
  if (typeof path === 'string' && /\/devices\/profiles\/[^/]+\.ya?ml$/.test(path)) read.push(path);
  return real.call(this, path, ...rest);
};
syncBuiltinESMExports();
process.on('exit', () => {
  for (const p of read) process.stderr.write(`HIL_PROFILE_READ ${p}\n`);
});
