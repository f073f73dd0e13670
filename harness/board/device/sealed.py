# Sealed query wrapper (harness/device/sealed.ts), defined once per connection by
# sealed_define.py: `_hil_sealed(sm)` returns the function that runs one request, `sm` being the
# board's checksum of bytes (crc32 `c%08x`, or Adler-32 `a%08x` on firmware without
# binascii.crc32). sealed_call.py calls it with _P in the globals: _P['q'] the request's code
# (bytes, carried as one bytes literal: escaped once, not as a JSON string; packed when _P['z']
# is there), _P['n'] this send's
# nonce, _P['c'] the list of checksums of the code the host accepts (of the kind the board is
# known to use, or both kinds while that is not known). The code runs only if it arrived intact;
# then one answer frame is printed as the last line of output:
#   @@hil NONCE KIND REQSUM LEN SUM PAYLOAD
# KIND: D the request arrived damaged (nothing ran), V answered (PAYLOAD is the JSON),
# X answered (PAYLOAD is the JSON's UTF-8 in hex: it holds non-ASCII bytes), N ran without
# answering; v, x, n the same when the code raised (its traceback follows on stderr). REQSUM is
# the board's checksum of the code it ran, LEN the payload's length and SUM the checksum of
# "NONCE KIND REQSUM LEN PAYLOAD". The nonce lives only in this function's locals (_P is taken
# out of the globals before the code runs). The frame is also kept in _hil_last until the next
# sealed program, so the host can ask for it again (sealed_again.py) when it arrived damaged,
# without running the code again.
# Short on purpose: it is sent again after every soft reset (every 128 bytes sent is a round
# trip of the raw-paste window).


def _hil_sealed(sm):
    def run():
        g = globals()
        g.pop('_hil_last', None)
        p = g.pop('_P')
        got = sm(p['q'])

        def frame(k, s=''):
            h = '%s %s %s %d' % (p['n'], k, got, len(s))
            f = g['_hil_last'] = '@@hil %s %s %s' % (h, sm((h + ' ' + s).encode()), s)
            print('\n' + f)

        if got not in p['c']:
            return frame('D')
        a = []
        g['_hil_answer'] = a.append

        # k: the kinds of an answer in JSON, of one in hex, of none ('VXN'; 'vxn' when the code raised).
        def done(k):
            if not a:
                return frame(k[2])
            import json

            try:
                s = json.dumps(a[-1])
            except Exception:
                frame('n')
                raise
            b = s.encode()
            # Non-ASCII in hex, without binascii (firmware may lack it): rare, and the frame's
            # own bytes then cost far more than this loop.
            if max(b) > 127:
                return frame(k[1], ''.join('%02x' % x for x in b))
            frame(k[0], s)

        try:
            q = p['q']
            # Packed by the host (a board whose identity has deflate.DeflateIO): the base64 of
            # the code's raw deflate stream, window 2**_P['z'] (extmod/moddeflate.c). Its
            # checksum above is of these bytes, so damage is caught before anything runs.
            if 'z' in p:
                import deflate, io, binascii

                q = deflate.DeflateIO(io.BytesIO(binascii.a2b_base64(q)), deflate.RAW, p['z']).read()
            exec(q, g)
        except BaseException:
            done('vxn')
            raise
        done('VXN')

    return run
