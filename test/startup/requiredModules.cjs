// Test helper (node --require): at exit, prints to stderr one line `HIL_REQUIRED <path>` per
// CommonJS module this process loaded with require() (require.cache, documented API): what ESM
// load hooks (loadedModules.mjs) do not see, e.g. a module loaded through createRequire.
process.on('exit', () => {
  for (const p of Object.keys(require.cache)) process.stderr.write(`HIL_REQUIRED ${p}\n`);
});
