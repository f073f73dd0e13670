# Defines the sealed wrapper (sealed.py) in the board's globals, once per connection
# (harness/device/sealed.ts). _P['w'] is the wrapper's source (bytes, packed when _P['y'] is
# there), _P['s'] the list of checksums of those bytes the host accepts, _P['h'] the crc32 of
# the source itself as the host computed it (the wrapper's name).
# The source is run only if its checksum on the board is in that list: a wrapper damaged on the
# way is never defined (sealed_call.py, sent after this, then finds no wrapper and says so, and
# the host sends both again). Kept as the global `_hil_w` + _P['h']: sealed_call.py runs only
# the wrapper of the hash it expects. _P stays in the globals for sealed_call.py.
# The checksum is crc32; sealed_adler.py, sent before this only while the board is not known to
# have binascii.crc32, leaves `_hil_adler` for firmware without it. Without either, nothing is
# defined (the call then says so, and the host sends sealed_adler.py too).


def _hil_define(g, p):
    sm = g.pop('_hil_adler', None)
    try:
        from binascii import crc32

        sm = lambda b: 'c%08x' % (crc32(b) & 0xFFFFFFFF)  # noqa: E731
    except ImportError:
        pass
    if sm and sm(p['w']) in p['s']:
        w = p['w']
        # Packed (the board's identity has deflate.DeflateIO): base64 of its raw deflate stream,
        # window 2**_P['y'] (extmod/moddeflate.c), inflated only once its checksum is right.
        if 'y' in p:
            import deflate, io, binascii

            w = deflate.DeflateIO(io.BytesIO(binascii.a2b_base64(w)), deflate.RAW, p['y']).read()
        exec(w, g)
        g['_hil_w' + p['h']] = g.pop('_hil_sealed')(sm)


_hil_define(globals(), _P)
del _hil_define
