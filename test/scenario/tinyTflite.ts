/**
 * A tiny TFLite flatbuffer writer for tests (tensorflow/lite/schema/schema.fbs): enough to make a
 * model hil reads (version, operator codes with builtin and custom codes, one subgraph with
 * tensors, inputs, outputs and operators), e.g. one compiled for Ethos-U (custom op `ethos-u`),
 * which no fixture is. Laid out front to back: every table's vtable just before it, every child
 * after its parent (flatbuffer offsets point forward).
 */
type Field = { u8: number } | { i32: number } | { ref: Obj } | undefined;
type Obj = { table: Field[] } | { ints: number[] } | { refs: Obj[] } | { str: string };

export function tflite(model: Obj): Uint8Array {
  const b: number[] = [];
  const put32 = (p: number, v: number) => { b[p] = v & 0xff; b[p + 1] = (v >>> 8) & 0xff; b[p + 2] = (v >>> 16) & 0xff; b[p + 3] = (v >>> 24) & 0xff; };
  const push32 = (v: number) => { const p = b.length; b.push(0, 0, 0, 0); put32(p, v); return p; };
  const align = () => { while (b.length % 4) b.push(0); };
  const place = (o: Obj): number => {
    align();
    const later: [number, Obj][] = [];
    let at: number;
    if ('table' in o) {
      const n = o.table.length;
      const vt = b.length;
      const vtSize = 4 + 2 * n;
      for (let i = 0; i < vtSize + (vtSize % 4 ? 2 : 0); i++) b.push(0);
      at = b.length;
      push32(at - vt);
      b[vt] = vtSize & 0xff; b[vt + 1] = vtSize >> 8;
      b[vt + 2] = (4 + 4 * n) & 0xff; b[vt + 3] = (4 + 4 * n) >> 8;
      o.table.forEach((f, i) => {
        const slot = push32(0);
        if (f === undefined) return;
        const off = slot - at;
        b[vt + 4 + 2 * i] = off & 0xff; b[vt + 5 + 2 * i] = off >> 8;
        if ('u8' in f) b[slot] = f.u8 & 0xff;
        else if ('i32' in f) put32(slot, f.i32);
        else later.push([slot, f.ref]);
      });
    } else if ('ints' in o) {
      at = push32(o.ints.length);
      for (const v of o.ints) push32(v);
    } else if ('refs' in o) {
      at = push32(o.refs.length);
      for (const r of o.refs) later.push([push32(0), r]);
    } else {
      const s = Buffer.from(o.str, 'utf8');
      at = push32(s.length);
      b.push(...s, 0);
    }
    for (const [slot, child] of later) put32(slot, place(child) - slot);
    return at;
  };
  push32(0);
  b.push(...Buffer.from('TFL3'));
  put32(0, place(model));
  align();
  return Uint8Array.from(b);
}

const T = (...table: Field[]): Obj => ({ table });

/**
 * A model of one operator `op` (a builtin code, or `{custom: name}`) from an int8 tensor of
 * `inShape` to one of `outShape`.
 */
export function oneOpModel(op: number | { custom: string }, inShape: number[], outShape: number[], version = 3): Uint8Array {
  const CUSTOM = 32;
  const code = typeof op === 'number' ? T({ u8: op }, undefined, { i32: 1 }, { i32: op }) : T({ u8: CUSTOM }, { ref: { str: op.custom } }, { i32: 1 }, { i32: CUSTOM });
  const tensor = (shape: number[], name: string) => T({ ref: { ints: shape } }, { u8: 9 }, undefined, { ref: { str: name } });
  const operator = T({ i32: 0 }, { ref: { ints: [0] } }, { ref: { ints: [1] } });
  const subgraph = T({ ref: { refs: [tensor(inShape, 'in'), tensor(outShape, 'out')] } }, { ref: { ints: [0] } }, { ref: { ints: [1] } }, { ref: { refs: [operator] } });
  return tflite(T({ i32: version }, { ref: { refs: [code] } }, { ref: { refs: [subgraph] } }));
}
