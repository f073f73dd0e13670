import type { Config } from 'jest';

// ESM throughout: yargs 18 and p-retry are ESM-only, so the package is "type": "module" and
// jest runs with --experimental-vm-modules (see the "test" script) using ts-jest's ESM mode.
const config: Config = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: [151002] } }],
  },
  testMatch: ['<rootDir>/harness/**/*.test.ts', '<rootDir>/test/**/*.test.ts', '<rootDir>/scenarios/**/*.test.ts'],
  // Each test file's own $XDG_STATE_HOME (the history hil run records into), removed after it.
  setupFilesAfterEnv: ['<rootDir>/test/setup/stateHome.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
};
export default config;
