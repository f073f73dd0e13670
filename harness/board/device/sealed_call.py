# Runs one sealed request (harness/device/sealed.ts) through the wrapper defined by
# sealed_define.py, kept in _hil_sw with the hash of its source: only when that hash is _P['h'].
# Otherwise (gone after a soft reset, replaced, another hil's) nothing of the request runs and
# the last line of output says so: "@@hil NONCE W" (the host then defines the wrapper again).


def _hil_call(g):
    w = g.get('_hil_sw')
    if type(w) is tuple and len(w) == 2 and w[0] == g['_P']['h']:
        w[1]()
    else:
        g.pop('_hil_last', None)
        print('\n@@hil %s W' % g.pop('_P')['n'])


try:
    _hil_call(globals())
finally:
    del _hil_call
