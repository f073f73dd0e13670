/**
 * The binary channel's frames and window (binaryChannel.ts), host side only: each header carries
 * the absolute stream offset and the CRC-32 of the stream from its start through that frame, and
 * the window is two acknowledgement groups of about 16 KiB, whatever the chunk size.
 */
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { FRAME_HEADER, GROUP_BYTES, channelFrames, framesPerAck, inFlightBytes } from './binaryChannel.js';

describe('binary channel frames', () => {
  it('carry the absolute offset and the running CRC-32 from the stream start', () => {
    const data = randomBytes(10_000);
    const { frames, crc } = channelFrames(data, 1000, 4096);
    expect(frames.map((f) => f.length - FRAME_HEADER)).toEqual([4096, 4096, 808]);
    let at = 1000;
    for (const f of frames) {
      expect(f.subarray(0, 2).toString('latin1')).toBe('HB');
      const n = f.readUInt16LE(2);
      expect(f.readUInt32LE(4)).toBe(at);
      expect(f.subarray(FRAME_HEADER)).toEqual(data.subarray(at, at + n));
      at += n;
      // The CRC of everything from the start through this frame, not of the frame alone.
      expect(f.readUInt32LE(8)).toBe(crc32(data.subarray(1000, at)) >>> 0);
    }
    expect(crc).toBe(crc32(data.subarray(1000)) >>> 0);
    expect(channelFrames(data, data.length, 4096)).toEqual({ frames: [], crc: 0 });
  });

  it('group about 16 KiB per acknowledgement, two groups in flight', () => {
    expect(framesPerAck(2048)).toBe(8);
    expect(framesPerAck(8192)).toBe(2);
    expect(framesPerAck(32768)).toBe(1);
    expect(framesPerAck(512)).toBe(GROUP_BYTES / 512);
    expect(inFlightBytes(8192)).toBe(32 * 1024);
    expect(inFlightBytes(32768)).toBe(64 * 1024);
  });
});
