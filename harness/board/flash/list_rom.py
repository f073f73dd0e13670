# What /rom lists: [path, size] for every file and [dir/, -1] for every directory, in order.
import os


def _hil_walk(p, pre, out):
    for e in os.ilistdir(p):
        n = e[0]
        full = p + '/' + n
        if e[1] & 0x4000:
            out.append([pre + n + '/', -1])
            _hil_walk(full, pre + n + '/', out)
        else:
            out.append([pre + n, os.stat(full)[6]])


try:
    _hil_o = []
    _hil_walk('/rom', '', _hil_o)
    _hil_answer({'entries': _hil_o})
except OSError as _hil_e:
    _hil_answer({'error': 'OSError %s' % (_hil_e.args[0] if _hil_e.args else '?')})
