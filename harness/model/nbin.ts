/**
 * ST relocatable network binary (NBIN), the model format the OpenMV N6's `ml` runs (ST Edge AI
 * runtime for the Neural-ART NPU, vendored in openmv/openmv lib/stai). What upstream documents
 * of the header, in lib/stai/libstai/ll_aton/ll_aton_reloc_network.c (struct ai_reloc_bin_hdr)
 * and lib/stai/libstai/include/ll_aton_reloc_network.h (AI_RELOC_* macros):
 *   u32 magic        AI_RELOC_MAGIC 0x4E49424E ("NBIN" in file order)
 *   u32 flags        bits 28-31 runtime major, 24-27 minor, 20-23 extra (20 secure, 21 debug
 *                    info, 22 async mode), 0-19 variant (0-11 CPU part number, 12 FPU used,
 *                    13-14 float ABI, 16-19 toolchain)
 *   11 x u32 sections: data_start, data_end, data_data, bss_start, bss_end, got_start, got_end,
 *                    rel_start, rel_end, params_start, params_offset (the top 4 bits name the
 *                    region: 0x2 flash, 0x4 RAM, 0x8/0x9 params; the low 28 bits are the offset)
 *   entry points, u32 each: 11 in OpenMV v4.8.x's runtime (network init ... ctx), 13 from v5.0.0
 *                    (weight and blob encryption info added before ctx): a 96- or 104-byte header
 *                    (devices/ops: nbin.headerBytes). Only the words up to the sections are read here.
 * Declared sizes, as the runtime computes them (ll_aton_reloc_get_info and helpers): code/ro
 * size = round8(offset(data_data)); exec RAM in XIP mode = round8(offset(bss_end)); in copy mode
 * ro + rw; the weights start at offset(params_offset) when non-zero.
 * Not established here: the runtime context (activation, params and external RAM sizes, the
 * runtime version string) sits behind an address the runtime computes from the loaded image
 * (ll_aton_reloc_get_info reads it through `bin + offset(data_data)`, pointer arithmetic on the
 * header type); hil does not try to reproduce that reading, so those sizes are not reported.
 */
import { ModelFormatError } from './errors.js';

export const NBIN_MAGIC = 0x4e49424e;
/** Bytes read here: magic, flags and the 11 section words (the entry words follow; their count varies). */
export const NBIN_HEADER_BYTES = 52;

const SECTIONS = ['dataStart', 'dataEnd', 'dataData', 'bssStart', 'bssEnd', 'gotStart', 'gotEnd', 'relStart', 'relEnd', 'paramsStart', 'paramsOffset'] as const;
type SectionName = (typeof SECTIONS)[number];

export interface NbinHeader {
  format: 'nbin';
  flags: number;
  runtime: { major: number; minor: number };
  /** CPU part number the binary was built for (0xD22 Cortex-M55, 0xC27 Cortex-M7...). */
  cpuId: number;
  fpuUsed: boolean;
  floatAbi: number;
  toolchain: number;
  secure: boolean;
  debugInfo: boolean;
  asyncMode: boolean;
  /** Section words as stored (region in the top 4 bits). */
  sections: Record<SectionName, number>;
  /** Bytes the runtime derives from the header. */
  sizes: {
    /** Header, text and rodata: executed in place from the model's address (XIP). */
    code: number;
    /** Data + bss: the exec RAM the firmware allocates in XIP mode. */
    execRamXip: number;
    execRamCopy: number;
    /** Initialised data image length (data_end - data_start). */
    data: number;
    /** Where the weights start in the file (0: none declared). */
    paramsOffset: number;
  };
  fileBytes: number;
}

/** CPU part numbers upstream names (AI_RELOC_ARM_CORTEX_*). */
export const NBIN_CPUS: Record<number, string> = { 0xc60: 'Cortex-M0+', 0xc23: 'Cortex-M3', 0xc24: 'Cortex-M4', 0xc27: 'Cortex-M7', 0xd21: 'Cortex-M33', 0xd22: 'Cortex-M55' };

const off = (w: number) => w & 0x0fffffff;
const round8 = (v: number) => (v + 7) & ~7;

export function isNbin(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x4e && bytes[1] === 0x42 && bytes[2] === 0x49 && bytes[3] === 0x4e;
}

export function parseNbin(bytes: Uint8Array): NbinHeader {
  if (!isNbin(bytes)) throw new ModelFormatError('no NBIN magic at byte 0', 0);
  if (bytes.length < NBIN_HEADER_BYTES) throw new ModelFormatError(`an NBIN header (magic, flags, sections) is at least ${NBIN_HEADER_BYTES} bytes; the file has ${bytes.length}`, bytes.length);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const w = (i: number) => v.getUint32(i * 4, true);
  const flags = w(1);
  const sections = {} as Record<SectionName, number>;
  SECTIONS.forEach((n, i) => (sections[n] = w(2 + i)));
  const ro = round8(off(sections.dataData));
  const rw = round8(off(sections.bssEnd));
  const data = off(sections.dataEnd) - off(sections.dataStart);
  if (data < 0) throw new ModelFormatError(`NBIN data section ends (${off(sections.dataEnd)}) before it starts (${off(sections.dataStart)})`, 8);
  if (off(sections.dataData) > bytes.length) throw new ModelFormatError(`NBIN code/rodata (${off(sections.dataData)} bytes, up to data_data) is longer than the ${bytes.length}-byte file`, 16);
  if (off(sections.dataData) + data > bytes.length) throw new ModelFormatError(`NBIN data image (${data} bytes at ${off(sections.dataData)}) runs past the ${bytes.length}-byte file`, 16);
  const paramsOffset = off(sections.paramsOffset);
  if (paramsOffset > bytes.length) throw new ModelFormatError(`NBIN params_offset ${paramsOffset} lies past the ${bytes.length}-byte file`, 48);
  return {
    format: 'nbin',
    flags,
    runtime: { major: (flags >>> 28) & 0xf, minor: (flags >>> 24) & 0xf },
    cpuId: flags & 0xfff,
    fpuUsed: ((flags >>> 12) & 1) === 1,
    floatAbi: (flags >>> 13) & 3,
    toolchain: (flags >>> 16) & 0xf,
    secure: ((flags >>> 20) & 1) === 1,
    debugInfo: ((flags >>> 21) & 1) === 1,
    asyncMode: ((flags >>> 22) & 1) === 1,
    sections,
    sizes: { code: ro, execRamXip: rw, execRamCopy: rw + ro, data, paramsOffset },
    fileBytes: bytes.length,
  };
}
