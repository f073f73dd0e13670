/**
 * Raw-REPL entry after a reset over socket:// (issue 15): the simulated board's TCP port accepts
 * while the board is away, as ser2net's does before its device is back, so the first Ctrl-A of a
 * reconnect reaches nobody. The entry asks again while the link is quiet and is in soon after the
 * board is back: within a deadline shorter than the board's absence plus the half-deadline wait
 * it had before (no timed assertion: the deadline given to hil is what is held).
 */
import { readFileSync } from 'node:fs';
import { openDevice, type ReplDevice } from '../device/index.js';
import { startSim } from '../sim/index.js';

const demo = new Uint8Array(readFileSync('test/fixtures/romfs/demo.mpremote.img'));

it('reconnects over socket:// to a board away for 12 s of a 20 s deadline, and its prompts do not confuse the next exec', async () => {
  const sim = await startSim({ profile: 'openmv-h7', image: demo, link: 'tcp', resetDelayMs: 12_000 });
  let d: ReplDevice | undefined;
  try {
    d = (await openDevice({ connection: sim.connection, profile: 'openmv-h7', powerCycle: () => sim.powerCycle() })) as ReplDevice;
    expect(await d.exec("print('before')")).toBe('before\n');
    const from = d.transcript.records.length;
    // The board is killed and comes back 12 s later; the port accepts at once. Before, the entry
    // waited 10 s (half of 20) for a prompt, tried once more while the board was still away, and
    // ran out of its deadline with the board up.
    await d.powerCycle!({ timeoutMs: 20_000 });
    const tx = Buffer.concat(d.transcript.records.slice(from).filter((r) => r.dir === 'tx').map((r) => r.data)).toString('latin1');
    expect(tx.split('\x01').length - 1).toBeGreaterThan(2);
    expect(tx).toContain("print('hil', 'sync')\x04");
    expect(await d.exec("print('after')")).toBe('after\n');
    expect(await d.evalJson('1 + 1')).toBe(2);
  } finally {
    await d?.close();
    await sim.stop();
  }
}, 90_000);
