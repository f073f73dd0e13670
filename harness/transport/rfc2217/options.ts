/**
 * Telnet option negotiation by the "Q method" of RFC 1143 (section 7): per option and per side
 * a state NO / YES / WANTNO / WANTYES and a one-deep queue (EMPTY / OPPOSITE). An answer is
 * sent only when it changes the state, so two ends can never loop on WILL/DO; an option we do
 * not support is refused once (DONT/WONT) and a refusal in state NO is not answered.
 *
 * "us": options we perform (we send WILL/WONT, the peer answers DO/DONT).
 * "him": options the peer performs (we send DO/DONT, the peer answers WILL/WONT).
 */
import { DO, DONT, WILL, WONT, type Verb } from './telnet.js';

export type QState = 'no' | 'yes' | 'wantno' | 'wantyes';
type Queue = 'empty' | 'opposite';

/**
 * State changes one side of one option makes at the peer's word (not ours) before it stops
 * answering them. The Q method prevents loops between two ends that only send their own
 * requests; verbs that cross with phantom ones (a damaged stream, a peer repeating itself) can
 * still drive two ends round YES/NO forever (DO, DONT arriving unasked: WILL, WONT answered,
 * DO, DONT back...). The budget is far above what any request sequence of a real peer makes.
 */
export const MAX_PEER_FLIPS = 16;

/** One side of one option. `enable`/`disable` say what to send; `accept` whether the peer may turn it on. */
class QSide {
  state: QState = 'no';
  queue: Queue = 'empty';
  private peerFlips = 0;
  constructor(private readonly accept: boolean, private readonly yes: Verb, private readonly no: Verb) {}

  /** The peer said yes (WILL for "him", DO for "us"). Returns what to send, if anything. */
  gotYes(): Verb | null {
    switch (this.state) {
      case 'no':
        if (this.accept) {
          // Past the budget an unasked "yes" is ignored: the option stays off, nothing is sent.
          if (++this.peerFlips > MAX_PEER_FLIPS) return null;
          this.state = 'yes';
          return this.yes;
        }
        return this.no;
      case 'yes':
        return null;
      case 'wantno':
        // RFC 1143: "DONT answered by WILL" is an error; the peer is left on.
        if (this.queue === 'empty') this.state = 'no';
        else {
          this.state = 'yes';
          this.queue = 'empty';
        }
        return null;
      case 'wantyes':
        if (this.queue === 'empty') {
          this.state = 'yes';
          return null;
        }
        this.state = 'wantno';
        this.queue = 'empty';
        return this.no;
    }
  }

  /** The peer said no (WONT for "him", DONT for "us"). */
  gotNo(): Verb | null {
    switch (this.state) {
      case 'no':
        return null;
      case 'yes':
        this.state = 'no';
        // Off is always allowed (RFC 854); past the budget it is taken without an answer.
        return ++this.peerFlips > MAX_PEER_FLIPS ? null : this.no;
      case 'wantno':
        if (this.queue === 'empty') {
          this.state = 'no';
          return null;
        }
        this.state = 'wantyes';
        this.queue = 'empty';
        return this.yes;
      case 'wantyes':
        this.state = 'no';
        this.queue = 'empty';
        return null;
    }
  }

  /** We want it on. */
  requestYes(): Verb | null {
    switch (this.state) {
      case 'no':
        this.state = 'wantyes';
        return this.yes;
      case 'wantno':
        this.queue = 'opposite';
        return null;
      case 'wantyes':
        this.queue = 'empty';
        return null;
      case 'yes':
        return null;
    }
  }

  /** We want it off. */
  requestNo(): Verb | null {
    switch (this.state) {
      case 'yes':
        this.state = 'wantno';
        return this.no;
      case 'wantyes':
        this.queue = 'opposite';
        return null;
      case 'wantno':
        this.queue = 'empty';
        return null;
      case 'no':
        return null;
    }
  }
}

export interface OptionPolicy {
  /** Options we are willing to perform when the peer asks (DO). */
  us: number[];
  /** Options we let the peer perform (WILL). */
  him: number[];
}

/** The negotiation state of every option seen on one connection. */
export class OptionTable {
  private readonly us = new Map<number, QSide>();
  private readonly him = new Map<number, QSide>();
  constructor(private readonly policy: OptionPolicy) {}

  private side(which: 'us' | 'him', option: number): QSide {
    const map = which === 'us' ? this.us : this.him;
    let s = map.get(option);
    if (!s) {
      const accept = this.policy[which].includes(option);
      s = which === 'us' ? new QSide(accept, WILL, WONT) : new QSide(accept, DO, DONT);
      map.set(option, s);
    }
    return s;
  }

  /** A received WILL/WONT/DO/DONT; returns the verb to answer with (same option), if any. */
  received(verb: Verb, option: number): Verb | null {
    if (verb === WILL) return this.side('him', option).gotYes();
    if (verb === WONT) return this.side('him', option).gotNo();
    if (verb === DO) return this.side('us', option).gotYes();
    return this.side('us', option).gotNo();
  }

  /** Ask for an option on one side; returns the verb to send, if any. */
  request(which: 'us' | 'him', option: number, on: boolean): Verb | null {
    const s = this.side(which, option);
    return on ? s.requestYes() : s.requestNo();
  }

  state(which: 'us' | 'him', option: number): QState {
    return (which === 'us' ? this.us : this.him).get(option)?.state ?? 'no';
  }

  /** No option is waiting for the peer's answer. */
  get settled(): boolean {
    for (const m of [this.us, this.him]) for (const s of m.values()) if (s.state === 'wantyes' || s.state === 'wantno') return false;
    return true;
  }
}
