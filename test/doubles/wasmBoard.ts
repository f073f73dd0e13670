/**
 * TEST DOUBLE (real MicroPython, no link): the WebAssembly MicroPython from npm run in this
 * process, implementing only `execRaw` of the Device interface through `runPython`. No serial
 * line, no raw REPL, no ROMFS (files live in its in-memory filesystem). Used to run hil's
 * board-side programs (probes, sealed queries) on real MicroPython in unit tests. `damageRequest`
 * and `damageAnswer` let a test alter what it "sends" or "receives" the way a bad cable would.
 */
// @ts-ignore: the package ships no type declarations
import { loadMicroPython } from '@micropython/micropython-webassembly-pyscript/micropython.mjs';
import type { Device, ExecResult } from '../../harness/device/types.js';

type MP = { runPython(code: string): unknown };

export class WasmBoard {
  readonly name = 'wasm-board';
  private out = '';
  /** Every program given to execRaw, in order. */
  sent: string[] = [];
  damageRequest: (code: string, n: number) => string = (c) => c;
  damageAnswer: (out: string, n: number) => string = (o) => o;
  private constructor(private mp: MP) {}

  static async create(): Promise<WasmBoard> {
    let board: WasmBoard | undefined;
    const mp = (await loadMicroPython({ stdout: (s: string) => { if (board) board.out += `${s}\n`; }, linebuffer: true })) as MP;
    board = new WasmBoard(mp);
    return board;
  }

  async execRaw(code: string): Promise<ExecResult> {
    const n = this.sent.length;
    this.sent.push(code);
    this.out = '';
    let stderr = '';
    try {
      this.mp.runPython(this.damageRequest(code, n));
    } catch (e) {
      stderr = (e as Error).message;
    }
    return { stdout: this.damageAnswer(this.out, n), stderr };
  }

  /** Forget what was sent and stop damaging. */
  reset(): void {
    this.sent = [];
    this.damageRequest = (c) => c;
    this.damageAnswer = (o) => o;
  }

  asDevice(): Device {
    return this as unknown as Device;
  }
}
