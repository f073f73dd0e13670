/**
 * Test cases shared by sealed.sim.test.ts (the simulated board) and sealed.qemu.test.ts (real
 * MicroPython under QEMU): sealed answers whatever the board's files, prints and tracebacks hold
 * (issue 11 item 10), and code run at most once unless the board proved it did not run it
 * (item 13). The board is reached through hil's fault-injecting link (harness/fault), so a test
 * can damage or cut the link at an exact byte. Its /rom holds `caseImage()`. Not a test file.
 */
import { expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { Device } from './types.js';
import type { FaultProxy } from '../fault/faultProxy.js';
import { AnswerIntegrityError, SealedWrapper, querySealed } from './sealed.js';
import { NotRunError } from './resend.js';
import { DeviceExceptionError } from '../repl/errors.js';
import { InfraError } from '../errors.js';
import { flatRomfs } from '../flash/testImage.js';
import { flashImage } from '../flash/flashImage.js';
import { listRom } from '../flash/verifyFlash.js';
import { silentProgress } from '../flash/progress.js';

/** A receiver that hashes what the binary channel brings (the channel cases below). */
const hashingReceiver = { setup: 'import hashlib\n_hil_t_h = hashlib.sha256()\ndef _hil_t_s(mv, off):\n    _hil_t_h.update(mv)', sink: '_hil_t_s', finish: "import binascii\nprint(binascii.hexlify(_hil_t_h.digest()).decode())" };

const text = (s: string) => new TextEncoder().encode(s);

/** Lines the code under test prints: the old marker, fake frames, a nonce lookalike. */
export const NOISE = [
  '@@hil@@c00000000 c00000000 "forged"',
  '@@hil@@damaged-request',
  '@@hil 0123456789abcdef V c00000000 8 c00000000 "forged"',
  '@@hil 0123456789abcdef D c00000000 0 c00000000 ',
];

/** Files named with the old marker and frame lookalikes, a module printing fake frames, apps that raise. */
export function caseFiles(): { name: string; data: Uint8Array }[] {
  return [
    { name: '@@hil@@.txt', data: text('@@hil@@c00000000 c00000000 1\n') },
    { name: '@@hil 0123456789abcdef V c00000000 1 c00000000 1', data: text('x') },
    { name: '@@hil@@damaged-request', data: text('') },
    { name: 'noisy.py', data: text(`for l in ${JSON.stringify(NOISE)}:\n    print(l)\nVALUE = 5\n`) },
    // Imported once per check: each import leaves one mark on sys.path (a module that raises is
    // not kept in sys.modules, so an import sent again would run it again).
    { name: 'app_stdin.py', data: text(`import sys\nsys.path.append('/hil-app')\nraise ValueError('File "<stdin>", line 1, in _hil_sealed\\n@@hil@@damaged-request')\n`) },
    { name: 'app_syntax.py', data: text(`import sys\nsys.path.append('/hil-syn')\neval("1 +")\n`) },
  ];
}

export function caseImage(): Uint8Array {
  return flatRomfs(caseFiles(), 16);
}

export interface CaseTarget {
  device(): Device;
  proxy(): FaultProxy;
}

const marks = async (d: Device, mark: string) => (await d.evalJson<number>(`__import__('sys').path.count(${JSON.stringify(mark)})`));

/** Both directions of the link since transcript record `from`, each joined into one text. */
function linkSince(d: Device, from: number): { tx: string; rx: string } {
  const rec = d.transcript.records.slice(from);
  const join = (dir: 'tx' | 'rx') => Buffer.concat(rec.filter((x) => x.dir === dir).map((x) => x.data)).toString('latin1');
  return { tx: join('tx'), rx: join('rx') };
}
const definitions = (tx: string) => tx.split('_hil_define(globals(), _P)').length - 1;
const noWrapperFrames = (rx: string) => (rx.match(/@@hil [0-9a-f]{16} W\r?\n/g) ?? []).length;

export function runOnceCases(t: CaseTarget): void {
  it('defines the sealed wrapper once per connection, again at once after a soft reset, and again when the board lost or replaced it behind hil', async () => {
    const d = t.device();
    const ask = async (n: number) => expect(await d.evalJson<number>(`${n} + 1`)).toBe(n + 1);
    await ask(1);
    let at = d.transcript.records.length;
    await ask(2);
    await ask(3);
    let l = linkSince(d, at);
    expect(definitions(l.tx)).toBe(0);
    expect(noWrapperFrames(l.rx)).toBe(0);
    // A soft reset wipes the board's globals: the next query defines the wrapper without asking.
    await d.softReset();
    at = d.transcript.records.length;
    await ask(4);
    await ask(5);
    l = linkSince(d, at);
    expect(definitions(l.tx)).toBe(1);
    expect(noWrapperFrames(l.rx)).toBe(0);
    // Removed behind hil's back: the board says so, nothing runs, the wrapper is defined again.
    const wrapperName = `_hil_w${new SealedWrapper().hash}`;
    await d.exec(`del ${wrapperName}`);
    at = d.transcript.records.length;
    await ask(6);
    l = linkSince(d, at);
    expect(noWrapperFrames(l.rx)).toBe(1);
    expect(definitions(l.tx)).toBe(1);
    // Replaced by something else (another hash) that would forge an answer: never run, never believed.
    await d.exec(`def _hil_t_fake():\n    print('HILFAKE-RAN')\n    p = globals().pop('_P')\n    print('@@hil %s V %s 3 c00000000 999' % (p['n'], p['c'][0]))\ndel ${wrapperName}\n_hil_wc00000000 = _hil_t_fake`);
    at = d.transcript.records.length;
    await ask(7);
    l = linkSince(d, at);
    expect(l.rx).not.toContain('HILFAKE-RAN');
    expect(noWrapperFrames(l.rx)).toBe(1);
    expect(definitions(l.tx)).toBe(1);
  }, 60_000);

  it('lists /rom exactly although its names hold the old marker and frame lookalikes', async () => {
    const listing = await listRom(t.device());
    expect(listing instanceof Map && [...listing.keys()].sort()).toEqual(caseFiles().map((f) => f.name).sort());
  });

  it('answers correctly after code that prints fake frames and the old marker, before and after answering', async () => {
    const code = `import sys\nif '/rom' not in sys.path:\n    sys.path.append('/rom')\nimport noisy\nfor l in ${JSON.stringify(NOISE)}:\n    print(l)\n_hil_answer({'v': noisy.VALUE, 'ls': sorted(n for n in __import__('os').listdir('/rom') if n.startswith('@@'))})\nfor l in ${JSON.stringify(NOISE)}:\n    print(l)\n`;
    const r = await querySealed<{ v: number; ls: string[] }>(t.device(), code, { phase: 'imports' });
    expect(r.value).toEqual({ v: 5, ls: caseFiles().map((f) => f.name).filter((n) => n.startsWith('@@')).sort() });
    expect(r.printed.split(/\r?\n/).filter(Boolean)).toEqual([...NOISE, ...NOISE, ...NOISE]);
  });

  it('flashes an image whose names hold the old marker and proves it (ram or rom-ioctl strategy)', async () => {
    const image = flatRomfs([...caseFiles(), { name: `salt-${randomBytes(4).toString('hex')}.bin`, data: randomBytes(3000) }], 16);
    const r = await flashImage(t.device(), { image, onProgress: silentProgress, force: true });
    expect(r.skipped).toBe(false);
    expect(r.mountChecked).toBe(true);
  }, 120_000);

  it('plain exec: a SyntaxError raised at run time (eval("1 +")) does not send the code again', async () => {
    const r = await t.device().execRaw("import sys\nsys.path.append('/hil-eval')\nprint('ran', sys.path.count('/hil-eval'))\neval(\"1 +\")");
    expect(r.stdout.trim()).toBe('ran 1');
    expect(r.stderr).toMatch(/SyntaxError/);
    expect(await marks(t.device(), '/hil-eval')).toBe(1);
  });

  it('sealed: an app whose exception names File "<stdin>" and the wrapper, or raises a SyntaxError, is imported once', async () => {
    for (const [mod, mark] of [['app_stdin', '/hil-app'], ['app_syntax', '/hil-syn']] as const) {
      // As the scenario probes ask (idempotent: a damaged answer would be asked again).
      const e = await querySealed(t.device(), `import sys\nif '/rom' not in sys.path:\n    sys.path.append('/rom')\nimport ${mod}\n_hil_answer(1)`, { phase: 'imports', idempotent: true }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InfraError);
      expect(e).not.toBeInstanceOf(AnswerIntegrityError);
      expect(String((e as Error).message)).toMatch(/imports program did not answer: /);
      expect(await marks(t.device(), mark)).toBe(1);
    }
  });

  it('a request damaged on the link is proven not run by the board, sent again, and runs once', async () => {
    const tag = `HILDMG${randomBytes(3).toString('hex')}`;
    const before = t.proxy().stats.fired;
    // Flip a bit of the byte after the tag's first occurrence: a 'z' in a comment of the code, so
    // the request still parses (no flip of 0x7a gives a quote, backslash or line end) and only
    // the board's checksum of the code can tell.
    t.proxy().addRule({ when: { kind: 'pattern', dir: 'toBoard', pattern: tag }, do: { kind: 'corrupt', count: 1 } });
    const r = await querySealed<string>(t.device(), `# ${tag}zzzz\nimport sys\nsys.path.append('/${tag}')\n_hil_answer('${tag}7777')`, { phase: 'erase' });
    expect(r.value).toBe(`${tag}7777`);
    expect(t.proxy().stats.fired).toBe(before + 1);
    const sends = Buffer.concat(t.device().transcript.records.filter((x) => x.dir === 'tx').map((x) => x.data)).toString('latin1').split(`${tag}7777`).length - 1;
    expect(sends).toBe(2);
    expect(await marks(t.device(), `/${tag}`)).toBe(1);
  });

  it('a binary-channel program damaged on the link is proven not run by the board (a retryable link fault, not a board exception)', async () => {
    const data = randomBytes(5000);
    // Flip a bit of the 's' after this text of the channel program (no flip of 0x73 gives a quote,
    // backslash or line end): the program still parses, only the board's checksum can tell.
    // Sent as it is here (not packed), so that text is on the wire.
    const wrapper = (t.device() as unknown as { sealedWrapper: SealedWrapper }).sealedWrapper;
    const inflate = wrapper.inflate;
    wrapper.inflate = false;
    try {
      t.proxy().addRule({ when: { kind: 'pattern', dir: 'toBoard', pattern: 'HIL_CHANNEL frame lo' }, do: { kind: 'corrupt', count: 1 } });
      const e = await t.device().sendBinary(hashingReceiver, data, { chunkSize: 1024 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(NotRunError);
    } finally {
      wrapper.inflate = inflate;
    }
    const r = await t.device().sendBinary(hashingReceiver, data, { chunkSize: 1024 });
    expect(r.finishOutput.trim()).toBe(r.sha256);
  });

  it('a packed program damaged on the link is proven not run too: its checksum is of the packed bytes, checked before inflating', async () => {
    const wrapper = (t.device() as unknown as { sealedWrapper: SealedWrapper }).sealedWrapper;
    expect(wrapper.inflate).toBe(true); // every board these cases run on has deflate.DeflateIO
    const data = randomBytes(5000);
    // The first base64 character of the channel program (packed, its phase in the parameters): a flip of 0x02 keeps a base64 character printable and never a quote or
    // backslash, so only the checksum can tell.
    t.proxy().addRule({ when: { kind: 'pattern', dir: 'toBoard', pattern: `"p":"transfer"}')\n_P['q'] = b'` }, do: { kind: 'corrupt', count: 1 } });
    const e = await t.device().sendBinary(hashingReceiver, data, { chunkSize: 1024 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NotRunError);
    const r = await t.device().sendBinary(hashingReceiver, data, { chunkSize: 1024 });
    expect(r.finishOutput.trim()).toBe(r.sha256);
  });

  it('sealed: a link cut while the answer comes back is recovered from the frame the board kept, without running the code again', async () => {
    const tag = `HILBACK${randomBytes(3).toString('hex')}`;
    t.proxy().addRule({ when: { kind: 'pattern', dir: 'toHost', pattern: `${tag}-printed` }, do: { kind: 'drop' } });
    const r = await querySealed<string>(t.device(), `import sys\nsys.path.append('/${tag}')\nprint('${tag}-printed')\n_hil_answer('${tag}-answer')`, { phase: 'erase' });
    expect(r).toMatchObject({ value: `${tag}-answer`, outputLost: true });
    expect(await marks(t.device(), `/${tag}`)).toBe(1);
  });

  it('plain exec: a link cut after the code started is an error saying so, and the code is not sent again', async () => {
    const tag = `HILCUT${randomBytes(3).toString('hex')}`;
    t.proxy().addRule({ when: { kind: 'pattern', dir: 'toHost', pattern: `${tag}-ran` }, do: { kind: 'drop' } });
    const e = await t.device().execRaw(`import sys\nsys.path.append('/${tag}')\nprint('${tag}-ran')`, { timeoutMs: 10_000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InfraError);
    expect(e).not.toBeInstanceOf(DeviceExceptionError);
    // The next operation reconnects; the board ran the code once.
    expect(await marks(t.device(), `/${tag}`)).toBe(1);
  });
}
