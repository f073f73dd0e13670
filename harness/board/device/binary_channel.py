# Board side of the binary channel (harness/repl/binaryChannel.ts). Parameters: _P['sink'] the
# name of the receiver's function sink(mv, offset), _P['total'] the stream's length, _P['start']
# the first offset, _P['chunk'] the largest frame payload, _P['group'] frames per acknowledgement.
# Ctrl-C is off while frames are read (a 0x03 in the data must not interrupt). A frame is 'HB',
# u16 length, u32 stream offset, u32 CRC-32 of the stream from start through this frame, data.
# The offset proves no frame was lost or repeated, the running CRC the frame and all before it
# (one pass over the bytes, no hash); then the sink gets it. One 0x06 acknowledges each group of
# frames (and the last); the host keeps at most two groups in flight. At the end the count and
# the running CRC are printed. The first frame that fails a check ends the program with an error.
import sys, micropython, binascii


def _hil_bin(sink, total, start, chunk, group):
    rd = sys.stdin.buffer.readinto
    wr = sys.stdout.write
    crc = binascii.crc32
    hdr = bytearray(12)
    hv = memoryview(hdr)
    buf = bytearray(chunk)
    mv = memoryview(buf)
    off = start
    acc = 0
    k = 0
    micropython.kbd_intr(-1)
    try:
        wr('\x06')
        while off < total:
            g = 0
            while g < 12:
                g += rd(hv[g:])
            if hdr[0] != 0x48 or hdr[1] != 0x42:
                raise OSError('HIL_CHANNEL frame lost at %d' % off)
            n = hdr[2] | (hdr[3] << 8)
            if n == 0 or n > chunk or n > total - off:
                raise OSError('HIL_CHANNEL bad frame length %d at %d' % (n, off))
            at = hdr[4] | (hdr[5] << 8) | (hdr[6] << 16) | (hdr[7] << 24)
            if at != off:
                raise OSError('HIL_CHANNEL frame lost at %d (next frame is for %d)' % (off, at))
            c = hdr[8] | (hdr[9] << 8) | (hdr[10] << 16) | (hdr[11] << 24)
            m = mv[:n]
            g = 0
            while g < n:
                g += rd(m[g:])
            acc = crc(m, acc) & 0xFFFFFFFF
            if acc != c:
                raise OSError('HIL_CHANNEL crc mismatch at %d' % off)
            sink(m, off)
            off += n
            k += 1
            if k == group or off >= total:
                k = 0
                wr('\x06')
    finally:
        micropython.kbd_intr(3)
    print('HILBIN', off - start, '%08x' % acc)


_hil_bin(globals()[_P['sink']], _P['total'], _P['start'], _P['chunk'], _P['group'])
