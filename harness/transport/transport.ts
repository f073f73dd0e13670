/**
 * A link to a board: bytes out, bytes in (event-driven into an RxBuffer), close. One class per
 * kind of link (serial, TCP), like esptool-js's transports.
 */
import type { RxBuffer } from './rxBuffer.js';

export interface Transport {
  /** Human-readable identity of the link, used in messages: a path or socket URL. */
  readonly description: string;
  readonly rx: RxBuffer;
  readonly isOpen: boolean;
  open(deadlineMs: number): Promise<void>;
  write(data: Uint8Array | string): Promise<void>;
  close(): Promise<void>;
  /**
   * Called once per observed byte sequence in each direction (the device's transcript).
   * `owned`: the bytes are the transport's own and never changed afterwards (kept without a copy).
   */
  onTraffic?: (dir: 'tx' | 'rx', data: Uint8Array, owned?: boolean) => void;
}
