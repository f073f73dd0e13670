/**
 * A QEMU binary that cannot be started is a one-line usage error naming it (exit 2), not a hang
 * or an unhandled spawn error. The firmware is an existing placeholder file: QEMU never runs.
 */
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QemuBoard } from './qemu.js';
import { UsageError } from '../errors.js';
import { loadProfile } from '../profile/profile.js';

let dir = '';
let firmware = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hil-qemu-bin-'));
  firmware = join(dir, 'firmware.elf');
  writeFileSync(firmware, 'placeholder: not firmware\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const profile = () => loadProfile('qemu-mps2-an385');

async function startError(binary: string): Promise<unknown> {
  return QemuBoard.start({ profile: profile(), firmware, binary, timeoutMs: 60_000 }).then(
    async (q) => {
      await q.stop();
      return new Error(`${binary} started`);
    },
    (e: unknown) => e,
  );
}

test('a binary name not on PATH', async () => {
  const e = await startError('qemu-system-arm-not-installed');
  expect(e).toBeInstanceOf(UsageError);
  expect((e as Error).message).toBe('qemu-system-arm-not-installed: not found on PATH (install it: apt-get install qemu-system-arm)');
});

test('a named binary path that does not exist', async () => {
  const bin = join(dir, 'no', 'qemu-system-arm');
  const e = await startError(bin);
  expect(e).toBeInstanceOf(UsageError);
  expect((e as Error).message).toBe(`${bin}: no such QEMU binary (install it: apt-get install qemu-system-arm, or fix the path)`);
});

// No execute bit at all: refused even for root (which bypasses read/write modes, not this).
test('a named binary that is not executable', async () => {
  const bin = join(dir, 'qemu-system-arm');
  writeFileSync(bin, '#!/bin/sh\nexit 0\n');
  chmodSync(bin, 0o644);
  const e = await startError(bin);
  expect(e).toBeInstanceOf(UsageError);
  expect((e as Error).message).toBe(`${bin}: QEMU binary is not executable (permission denied)`);
});
