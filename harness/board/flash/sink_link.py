# The link's raw rate as the board can take it: read _P['total'] bytes from stdin in as large
# pieces as arrive, nothing else (no frames, checks or acknowledgements); Ctrl-C off meanwhile.
# Answers 0x06 when it is reading, and 'HILRAW <count>' at the end.
import sys, micropython


def _hil_raw(total, chunk):
    rd = sys.stdin.buffer.readinto
    buf = bytearray(chunk)
    mv = memoryview(buf)
    n = 0
    micropython.kbd_intr(-1)
    try:
        sys.stdout.write('\x06')
        while n < total:
            n += rd(mv[:min(chunk, total - n)])
    finally:
        micropython.kbd_intr(3)
    print('HILRAW', n)


_hil_raw(_P['total'], _P['chunk'])
