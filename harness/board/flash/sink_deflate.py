# Binary-channel sink of a compressed transfer: the stream is one zlib frame per block
# (u32le length + data); each frame is inflated into one block and handed to the writer.
# Params: block (bytes per block), length (image length), first (index of the first block sent),
# room (bytes to hold a frame and a chunk).
import deflate, io, gc
_hil_B = _P['block']
_hil_N = _P['length']
_hil_k = _P['first']
_hil_cb = bytearray(_P['room'])
_hil_cm = memoryview(_hil_cb)
_hil_n = 0
_hil_ob = bytearray(min(_hil_B, _hil_N))


def _hil_sink(mv, off):
    global _hil_k, _hil_n
    l = len(mv)
    _hil_cm[_hil_n:_hil_n + l] = mv
    _hil_n += l
    p = 0
    while _hil_n - p >= 4:
        n = _hil_cb[p] | (_hil_cb[p + 1] << 8) | (_hil_cb[p + 2] << 16) | (_hil_cb[p + 3] << 24)
        if _hil_n - p < 4 + n:
            break
        a = _hil_k * _hil_B
        want = min(_hil_B, _hil_N - a)
        d = deflate.DeflateIO(io.BytesIO(_hil_cm[p + 4:p + 4 + n]), deflate.ZLIB)
        ob = memoryview(_hil_ob)
        got = 0
        while got < want:
            r = d.readinto(ob[got:want])
            if not r:
                break
            got += r
        d = None
        if got != want:
            raise ValueError('HIL_FRAME block %d inflated to %d of %d bytes' % (_hil_k, got, want))
        _hil_w(a, ob[:want])
        _hil_k += 1
        p += 4 + n
        gc.collect()
    if p:
        _hil_cm[0:_hil_n - p] = _hil_cm[p:_hil_n]
        _hil_n -= p
