# Sealed query wrapper (harness/device/sealed.ts), defined once per connection by
# sealed_define.py: `_hil_sealed(sm)` returns the function that runs one request, `sm` being the
# board's checksum (crc32 `c%08x`, or Adler-32 `a%08x` on firmware without binascii.crc32).
# sealed_call.py calls it with _P in the globals: _P['q'] the request's code, _P['n'] this send's
# nonce, _P['c'] and _P['a'] the request's crc32 and Adler-32 as the host computed them. The code
# runs only if it arrived intact; then one answer frame is printed as the last line of output:
#   @@hil NONCE KIND REQSUM LEN SUM PAYLOAD
# KIND: D the request arrived damaged (nothing ran), V answered (PAYLOAD is the JSON),
# X answered (PAYLOAD is the JSON's UTF-8 in hex: it holds non-ASCII bytes), N ran without
# answering; v, x, n the same when the code raised (its traceback follows on stderr). REQSUM is
# the board's checksum of the code it ran, LEN the payload's length and SUM the checksum of
# "NONCE KIND REQSUM LEN PAYLOAD". The nonce lives only in this function's locals (_P is taken
# out of the globals before the code runs). The frame is also kept in _hil_last until the next
# sealed program, so the host can ask for it again (sealed_again.py) when it arrived damaged,
# without running the code again.


def _hil_sealed(sm):
    def run():
        g = globals()
        g.pop('_hil_last', None)
        p = g.pop('_P')
        q = p['q']
        n = p['n']
        got = sm(q.encode())

        def frame(kind, payload):
            h = '%s %s %s %d' % (n, kind, got, len(payload))
            f = '@@hil %s %s %s' % (h, sm((h + ' ' + payload).encode()), payload)
            g['_hil_last'] = f
            print('\n' + f)

        if got != p['c'] and got != p['a']:
            frame('D', '')
            return
        box = []

        def answer(v):
            box.append(v)

        g['_hil_answer'] = answer

        def done(raised):
            if not box:
                frame('n' if raised else 'N', '')
                return
            import json

            try:
                s = json.dumps(box[-1])
            except Exception:
                frame('n', '')
                raise
            b = s.encode()
            if len(b) and max(b) > 127:
                try:
                    from binascii import hexlify

                    s = hexlify(b).decode()
                except ImportError:
                    s = ''.join('%02x' % x for x in b)
                frame('x' if raised else 'X', s)
            else:
                frame('v' if raised else 'V', s)

        try:
            exec(q, g)
        except BaseException:
            done(True)
            raise
        done(False)

    return run
