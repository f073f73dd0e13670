/**
 * Hashes computed on the board over the partition's bytes (read through `rom_ioctl(2, id)`,
 * a memoryview of the partition, in blocks so no copy is made): the sha256 of the first `length`
 * bytes (skip-if-same and proof), and short per-block digests (resume after a link fault).
 */
import type { Device } from '../device/types.js';
import { InfraError } from '../errors.js';
import { execJson, pyInt } from './boardJson.js';

/** Python running `body` (which returns a dict) with `m` = the partition's memoryview, N = length. */
function onPartition(partition: number, length: number, body: string): string {
  return `
import vfs, hashlib, binascii
def _hil_f(N):
    m = vfs.rom_ioctl(2, ${pyInt(partition)})
    if isinstance(m, int):
        return {'error': 'rom_ioctl(2, ${pyInt(partition)}) = %d' % m}
    if len(m) < N:
        return {'error': 'partition is %d bytes, less than %d' % (len(m), N)}
${body}
_hil_answer(_hil_f(${pyInt(length)}))
`;
}

function timeoutFor(length: number): number {
  return 20_000 + Math.ceil(length / 50_000) * 1000;
}

/** sha256 (hex) of the partition's first `length` bytes, computed on the board. */
export async function hashBoardImage(device: Device, partition: number, length: number, blockSize = 16 * 1024): Promise<string> {
  const r = await execJson<{ sha256?: string; error?: string }>(
    device,
    onPartition(partition, length, `
    h = hashlib.sha256()
    for a in range(0, N, ${pyInt(blockSize)}):
        h.update(m[a:min(a + ${pyInt(blockSize)}, N)])
    return {'sha256': binascii.hexlify(h.digest()).decode()}
`),
    'hash',
    timeoutFor(length),
    true,
  );
  if (!r.sha256) throw new InfraError(`${device.name}: cannot hash partition ${partition}: ${r.error ?? 'no answer'}`, 'hash');
  return r.sha256;
}

/** First 8 bytes (hex) of sha256 of blocks `from..to-1` of the image region on the board. */
export async function boardBlockDigests(device: Device, partition: number, length: number, blockSize: number, from: number, to: number): Promise<string[]> {
  if (to <= from) return [];
  const r = await execJson<{ digests?: string[]; error?: string }>(
    device,
    onPartition(partition, length, `
    d = []
    for i in range(${pyInt(from)}, ${pyInt(to)}):
        a = i * ${pyInt(blockSize)}
        d.append(binascii.hexlify(hashlib.sha256(m[a:min(a + ${pyInt(blockSize)}, N)]).digest()[:8]).decode())
    return {'digests': d}
`),
    'resume-check',
    timeoutFor((to - from) * blockSize),
    true,
  );
  if (!r.digests) throw new InfraError(`${device.name}: cannot hash partition ${partition}: ${r.error ?? 'no answer'}`, 'resume-check');
  return r.digests;
}
