/**
 * Fuzz of the RFC 2217 protocol layer (harness/transport/rfc2217) with fast-check:
 * - escaping round-trips any data in any chunking, binary and NVT (CR NUL) alike;
 * - any mix of data, negotiations, subnegotiations (IAC inside included) and commands decodes
 *   back to the same data and the same events, in order, however the stream is split;
 * - arbitrary bytes never throw, never yield more data than came in, decode the same in any
 *   split, and never hold more than MAX_SUBNEGOTIATION bytes of an unfinished subnegotiation;
 * - two RFC 1143 option tables with any policies and any requests settle without a loop (a
 *   bounded number of messages) and agree on every option;
 * - any COM-PORT-OPTION reply payload parses to a reply or 'malformed', never an exception.
 */
import fc from 'fast-check';
import { describe, expect, it } from '@jest/globals';
import { DO, DONT, IAC, MAX_SUBNEGOTIATION, NOP, SE, TelnetDecoder, WILL, WONT, escapeData, negotiation, subnegotiation, type TelnetEvent, type Verb } from '../../harness/transport/rfc2217/telnet.js';
import { MAX_PEER_FLIPS, OptionTable } from '../../harness/transport/rfc2217/options.js';
import { parseServerReply } from '../../harness/transport/rfc2217/comPort.js';

const RUNS = 800;

/** Split `b` at the given cut points (fractions), feed each piece. */
function decodeInPieces(b: Uint8Array, cuts: number[], binary = true): { data: Buffer; events: TelnetEvent[]; dec: TelnetDecoder } {
  const dec = new TelnetDecoder();
  dec.binary = binary;
  const at = [...new Set(cuts.map((c) => Math.floor(c * b.length)))].sort((x, y) => x - y);
  const parts: Buffer[] = [];
  const events: TelnetEvent[] = [];
  let prev = 0;
  for (const p of [...at, b.length]) {
    const r = dec.push(b.subarray(prev, p));
    parts.push(r.data);
    events.push(...r.events);
    prev = p;
  }
  return { data: Buffer.concat(parts), events, dec };
}

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });
/** Bytes rich in the ones that matter (IAC, SE, SB, CR, NUL). */
const hotByte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(IAC, SE, 250, 13, 0, WILL, DO));
const bytes = (max: number) => fc.array(hotByte, { maxLength: max }).map((a) => Uint8Array.from(a));

type Item = { t: 'data'; b: Uint8Array } | { t: 'neg'; verb: Verb; option: number } | { t: 'sb'; option: number; b: Uint8Array } | { t: 'nop' };
const item: fc.Arbitrary<Item> = fc.oneof(
  bytes(60).map((b) => ({ t: 'data' as const, b })),
  fc.record({ t: fc.constant('neg' as const), verb: fc.constantFrom<Verb>(WILL, WONT, DO, DONT), option: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ t: fc.constant('sb' as const), option: fc.integer({ min: 0, max: 254 }), b: bytes(40) }),
  fc.constant({ t: 'nop' as const }),
);

describe('telnet codec', () => {
  it('escaped data decodes to itself in any chunking (binary and NVT)', () => {
    fc.assert(
      fc.property(bytes(300), cuts, fc.boolean(), (data, c, binary) => {
        const wire = escapeData(data, binary);
        const { data: got, events } = decodeInPieces(wire, c, binary);
        expect(events).toEqual([]);
        expect(Buffer.compare(got, Buffer.from(data))).toBe(0);
      }),
      { numRuns: RUNS },
    );
  });

  it('a mixed stream decodes to the same data and events, in order, in any split', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 20 }), cuts, (items, c) => {
        const wire: Buffer[] = [];
        const wantData: Buffer[] = [];
        const wantEvents: TelnetEvent[] = [];
        for (const it of items) {
          if (it.t === 'data') {
            wire.push(escapeData(it.b, true));
            wantData.push(Buffer.from(it.b));
          } else if (it.t === 'neg') {
            wire.push(negotiation(it.verb, it.option));
            wantEvents.push({ kind: 'negotiate', verb: it.verb, option: it.option });
          } else if (it.t === 'sb') {
            wire.push(subnegotiation(it.option, it.b));
            wantEvents.push({ kind: 'subnegotiation', option: it.option, data: Buffer.from(it.b) });
          } else {
            wire.push(Buffer.from([IAC, NOP]));
            wantEvents.push({ kind: 'command', code: NOP });
          }
        }
        const { data, events } = decodeInPieces(Buffer.concat(wire), c);
        expect(Buffer.compare(data, Buffer.concat(wantData))).toBe(0);
        expect(events).toEqual(wantEvents);
      }),
      { numRuns: RUNS },
    );
  });

  it('arbitrary bytes: no exception, no more data than input, split-invariant, bounded state', () => {
    fc.assert(
      fc.property(bytes(3000), cuts, fc.boolean(), (b, c, binary) => {
        const whole = decodeInPieces(b, [], binary);
        const split = decodeInPieces(b, c, binary);
        expect(whole.data.length).toBeLessThanOrEqual(b.length);
        expect(Buffer.compare(split.data, whole.data)).toBe(0);
        expect(split.events).toEqual(whole.events);
        for (const e of whole.events) if (e.kind === 'subnegotiation') expect(e.data.length).toBeLessThanOrEqual(MAX_SUBNEGOTIATION);
        expect(whole.dec.pendingBytes).toBeLessThanOrEqual(MAX_SUBNEGOTIATION);
      }),
      { numRuns: RUNS },
    );
  });

  it('an over-long subnegotiation is dropped and the data after its IAC SE comes through', () => {
    const long = subnegotiation(44, new Uint8Array(MAX_SUBNEGOTIATION + 10).fill(7));
    const { data, events } = decodeInPieces(Buffer.concat([long, Buffer.from('after')]), [0.3, 0.9]);
    expect(data.toString()).toBe('after');
    expect(events).toEqual([{ kind: 'malformed', reason: expect.stringMatching(/longer than 1024 bytes/) }]);
  });

  it('a subnegotiation whose SE was lost ends at the next command, and the stream goes on', () => {
    const wire = Buffer.concat([Buffer.from([IAC, 250, 44, 101, 1, 2]), negotiation(WILL, 0), Buffer.from('ok')]);
    const { data, events } = decodeInPieces(wire, []);
    expect(data.toString()).toBe('ok');
    expect(events).toEqual([{ kind: 'malformed', reason: expect.stringMatching(/cut by IAC 251/) }, { kind: 'negotiate', verb: WILL, option: 0 }]);
  });

  it('NVT receive: CR NUL is CR, CR LF stays, a NUL not after CR is data', () => {
    const dec = new TelnetDecoder();
    expect([...dec.push(Buffer.from([13, 0, 65, 13, 10, 0, 13])).data]).toEqual([13, 65, 13, 10, 0, 13]);
    expect([...dec.push(Buffer.from([0, 66])).data]).toEqual([66]); // the CR's NUL arrived in the next chunk
  });
});

describe('RFC 1143 option negotiation', () => {
  const OPTS = [0, 1, 3, 44, 200];
  type Req = { side: 'a' | 'b'; which: 'us' | 'him'; option: number; on: boolean; at: number };
  it('two tables with any policies and requests settle without a loop and agree', () => {
    fc.assert(
      fc.property(
        fc.subarray(OPTS),
        fc.subarray(OPTS),
        fc.subarray(OPTS),
        fc.subarray(OPTS),
        fc.array(fc.record({ side: fc.constantFrom<'a' | 'b'>('a', 'b'), which: fc.constantFrom<'us' | 'him'>('us', 'him'), option: fc.constantFrom(...OPTS), on: fc.boolean(), at: fc.nat(30) }), { maxLength: 12 }),
        // Unsolicited verbs arriving out of turn (a peer repeating itself, a damaged stream).
        fc.array(fc.record({ to: fc.constantFrom<'a' | 'b'>('a', 'b'), verb: fc.constantFrom<Verb>(WILL, WONT, DO, DONT), option: fc.constantFrom(...OPTS), at: fc.nat(30) }), { maxLength: 6 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (aUs, aHim, bUs, bHim, reqs: Req[], injected, seed) => {
          const a = new OptionTable({ us: aUs, him: aHim });
          const b = new OptionTable({ us: bUs, him: bHim });
          // Messages in flight each way (TCP keeps order per direction; the two directions interleave).
          const toA: [Verb, number][] = [];
          const toB: [Verb, number][] = [];
          const send = (from: 'a' | 'b', v: Verb | null, option: number) => {
            if (v !== null) (from === 'a' ? toB : toA).push([v, option]);
          };
          let rnd = seed;
          const next = () => (rnd = (rnd * 1103515245 + 12345) & 0x7fffffff);
          let messages = 0;
          const pending = [...reqs].sort((x, y) => x.at - y.at);
          for (let step = 0; step < 10_000; step++) {
            while (pending.length && pending[0]!.at <= step) {
              const r = pending.shift()!;
              const t = r.side === 'a' ? a : b;
              send(r.side, t.request(r.which, r.option, r.on), r.option);
            }
            for (const m of injected) if (m.at === step) (m.to === 'a' ? toA : toB).push([m.verb, m.option]);
            if (!toA.length && !toB.length && !pending.length && step > 30) break;
            const pickA = toA.length && (!toB.length || next() % 2 === 0);
            if (pickA) {
              const [v, o] = toA.shift()!;
              send('a', a.received(v, o), o);
              messages++;
            } else if (toB.length) {
              const [v, o] = toB.shift()!;
              send('b', b.received(v, o), o);
              messages++;
            }
          }
          expect(toA.length + toB.length).toBe(0);
          // No loop: each request is answered a bounded number of times; phantom verbs can drive
          // the two ends round at most until an option's budget of peer-made changes is spent.
          expect(messages).toBeLessThanOrEqual(4 * (reqs.length + injected.length + 1) + 4 * MAX_PEER_FLIPS * injected.length);
          expect(a.settled && b.settled).toBe(true);
          // Injected verbs may leave the two ends disagreeing (that is what a damaged stream does);
          // between RFC 1143 ends that only exchanged their own messages, they agree.
          if (injected.length === 0) for (const o of OPTS) {
            expect([o, a.state('us', o)]).toEqual([o, b.state('him', o)]);
            expect([o, a.state('him', o)]).toEqual([o, b.state('us', o)]);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('verbs crossing phantom ones (DO then DONT arriving unasked) do not drive two ends round forever (seed -1342393043)', () => {
    // a lets the peer perform 200, b performs 200; b receives DO 200 and DONT 200 nobody sent.
    const a = new OptionTable({ us: [], him: [200] });
    const b = new OptionTable({ us: [200], him: [] });
    let toA: [Verb, number][] = [];
    let toB: [Verb, number][] = [[DO, 200], [DONT, 200]];
    let messages = 0;
    while ((toA.length || toB.length) && messages < 1000) {
      const nextToA: [Verb, number][] = [];
      const nextToB: [Verb, number][] = [];
      for (const [v, o] of toB) { messages++; const r = b.received(v, o); if (r !== null) nextToA.push([r, o]); }
      for (const [v, o] of toA) { messages++; const r = a.received(v, o); if (r !== null) nextToB.push([r, o]); }
      [toA, toB] = [nextToA, nextToB];
    }
    expect(messages).toBeLessThan(200); // without the budget: 1000, the cap of this loop
    expect(a.settled && b.settled).toBe(true);
  });

  it('an option nobody supports is refused once and a refusal is not answered', () => {
    const t = new OptionTable({ us: [0], him: [0] });
    expect(t.received(WILL, 24)).toBe(DONT);
    expect(t.received(WONT, 24)).toBeNull();
    expect(t.received(DO, 24)).toBe(WONT);
    expect(t.received(DONT, 24)).toBeNull();
    expect(t.received(WILL, 0)).toBe(DO);
    expect(t.received(WILL, 0)).toBeNull(); // already on: no answer, no loop
  });
});

describe('COM-PORT-OPTION replies', () => {
  it('any payload parses to a reply or malformed, never throws', () => {
    fc.assert(
      fc.property(bytes(20), (p) => {
        const r = parseServerReply(p);
        expect(typeof r.kind).toBe('string');
      }),
      { numRuns: RUNS },
    );
  });
  it('decodes the answers ser2net sends', () => {
    expect(parseServerReply(Buffer.from([101, 0, 1, 0xc2, 0]))).toEqual({ kind: 'baudrate', baud: 115200 });
    expect(parseServerReply(Buffer.from([112, 3]))).toEqual({ kind: 'purge', value: 3 });
    expect(parseServerReply(Buffer.from([107, 0]))).toEqual({ kind: 'modemstate', value: 0 });
    expect(parseServerReply(Buffer.from('dser2net', 'latin1'))).toEqual({ kind: 'signature', text: 'ser2net' });
    expect(parseServerReply(Buffer.from([101, 0, 1]))).toEqual({ kind: 'malformed', reason: 'SET-BAUDRATE reply of 2 bytes (want 4)' });
  });
});
