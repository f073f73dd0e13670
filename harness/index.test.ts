/**
 * The library entry (package.json "main"/"exports": dist/harness/index.js) gives a program what the
 * CLI uses: a scope, the lease stores, the model parser. Each is used here through the entry only.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as hil from './index.js';
import { repoRoot } from './fault/spawnHil.js';

describe('the library entry', () => {
  it('opens a file lease store, takes and lists a lease, and a scope gives it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hil-api-'));
    try {
      const store = hil.openLeaseStore({ leases: `file:${dir}` });
      expect(store.kind).toBe('file');
      const scope = new hil.Scope();
      const lease = await store.acquire('cam-1', { what: 'library test' });
      scope.defer('lease cam-1', () => lease.release());
      await lease.fence();
      const held = await store.list();
      expect(held.map((l) => [l.key, l.live, l.pid])).toEqual([['cam-1', true, process.pid]]);
      await scope.release();
      expect(await store.list()).toEqual([]);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a lease URL that is not one, naming it', () => {
    expect(() => hil.openLeaseStore({ leases: 'postgres://[bad' })).toThrow(/not a valid postgres:\/\/ URL/);
  });

  it('parses the demo model and checks it against a profile and an op table', () => {
    const bytes = readFileSync(join(repoRoot(), 'images/demo/model.tflite'));
    const model = hil.parseTflite(bytes);
    expect(model.subgraphs.length).toBeGreaterThan(0);
    expect(model.operatorCodes.map((c) => hil.opName(c)).every((n) => typeof n === 'string' && n.length > 0)).toBe(true);
    const facts = hil.describeModel(bytes);
    expect(facts.format).toBe('tflite');
    expect(hil.listOpTables().length).toBeGreaterThan(0);
    const check = hil.checkModel(facts, { name: 'openmv-h7', modelFormat: 'tflite', mlRam: 1 << 20 } as never, hil.loadOpTable());
    expect(check.profile).toBe('openmv-h7');
    expect(check.findings.filter((f) => f.code === 'parse')).toEqual([]);
  });
});
