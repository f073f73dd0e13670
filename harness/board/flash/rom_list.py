# Library (prepended to list_rom.py and verify.py): _hil_rom() is what /rom lists, as
# {'entries': [[path, size] for every file, [dir/, -1] for every directory, in order]}, or
# {'error': 'OSError N'} when /rom cannot be listed (not mounted).
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


def _hil_rom():
    o = []
    try:
        _hil_walk('/rom', '', o)
    except OSError as e:
        return {'error': 'OSError %s' % (e.args[0] if e.args else '?')}
    return {'entries': o}
