# Board side of the binary channel (harness/repl/binaryChannel.ts). Parameters: _P['sink'] the
# name of the receiver's function sink(mv, offset), _P['total'] the stream's length, _P['start']
# the first offset, _P['chunk'] the largest frame payload. Ctrl-C is off while frames are read
# (a 0x03 in the data must not interrupt); each frame (HB, u16 length, u32 crc32, data) is checked,
# handed to the sink and acknowledged with 0x06; at the end the count and sha256 are printed.
import sys, micropython, hashlib, binascii


def _hil_bin(sink, total, start, chunk):
    rd = sys.stdin.buffer.readinto
    wr = sys.stdout.write
    h = hashlib.sha256()
    hdr = bytearray(8)
    buf = bytearray(chunk)
    mv = memoryview(buf)
    hv = memoryview(hdr)
    off = start
    micropython.kbd_intr(-1)
    try:
        wr('\x06')
        while off < total:
            g = 0
            while g < 8:
                g += rd(hv[g:])
            if hdr[0] != 0x48 or hdr[1] != 0x42:
                raise OSError('HIL_CHANNEL frame lost at %d' % off)
            n = hdr[2] | (hdr[3] << 8)
            if n == 0 or n > chunk:
                raise OSError('HIL_CHANNEL bad frame length %d at %d' % (n, off))
            c = hdr[4] | (hdr[5] << 8) | (hdr[6] << 16) | (hdr[7] << 24)
            m = mv[:n]
            g = 0
            while g < n:
                g += rd(m[g:])
            if binascii.crc32(m) & 0xFFFFFFFF != c:
                raise OSError('HIL_CHANNEL crc mismatch at %d' % off)
            h.update(m)
            sink(m, off)
            off += n
            wr('\x06')
    finally:
        micropython.kbd_intr(3)
    print('HILBIN', off - start, binascii.hexlify(h.digest()).decode())


_hil_bin(globals()[_P['sink']], _P['total'], _P['start'], _P['chunk'])
