# Defines the sealed wrapper (sealed.py) in the board's globals, once per connection
# (harness/device/sealed.ts). _P['w'] is the wrapper's source, _P['h'] and _P['ha'] its crc32 and
# Adler-32 as the host computed them. The source is run only if its checksum on the board is one
# of those: a wrapper damaged on the way is never defined (sealed_call.py, sent after this, then
# finds no wrapper and says so, and the host sends both again). Kept as
# _hil_sw = (_P['h'], run): sealed_call.py runs it only while that hash is the one it expects.
# _P stays in the globals for sealed_call.py.


def _hil_define(g, p):
    w = p['w']
    try:
        from binascii import crc32

        def sm(b):
            return 'c%08x' % (crc32(b) & 0xFFFFFFFF)

    except ImportError:

        def sm(b):
            a = 1
            c = 0
            for x in b:
                a = (a + x) % 65521
                c = (c + a) % 65521
            return 'a%08x' % ((c << 16) | a)

    s = sm(w.encode())
    if s == p['h'] or s == p['ha']:
        exec(w, g)
        g['_hil_sw'] = (p['h'], g.pop('_hil_sealed')(sm))


_hil_define(globals(), _P)
del _hil_define
