# hil's listing check: every entry of the board's /rom, in the order the firmware lists them.
# Parameters: _P['root'] (e.g. '/rom'), _P['sha256'] (compute a sha256 of every file on the board).
# Answer: {'entries': [[name_hex, size, sha256, error], ...]} with
#   name_hex  the path under root as hex bytes (a name need not be UTF-8: walking with bytes paths
#             keeps os.ilistdir from raising UnicodeError on one), directories ending in '/';
#   size      bytes, or -1 for a directory;
#   sha256    hex digest, or None (not asked, or the file could not be read);
#   error     None, or why this entry could not be listed, sized or read (a finding about it).
# or {'error': why, 'tb': traceback} when root itself cannot be listed.
# The walk is iterative (an explicit stack), so a deeply nested image never reaches the
# recursion limit of the board's MicroPython.
import os
import sys
import binascii
try:
    import hashlib
except ImportError:
    hashlib = None
try:
    import io as _io
except ImportError:
    _io = None


def _tb(e):
    if _io is not None and hasattr(sys, 'print_exception'):
        s = _io.StringIO()
        sys.print_exception(e, s)
        return s.getvalue()
    return repr(e)


def _why(e):
    if isinstance(e, OSError) and e.args:
        return 'OSError %s' % (e.args[0],)
    return '%s: %s' % (type(e).__name__, e)


def _sha(full):
    d = hashlib.sha256()
    with open(full, 'rb') as f:
        try:
            mv = memoryview(f)
        except TypeError:
            mv = None
        if mv is not None:
            d.update(mv)
        else:
            while True:
                b = f.read(4096)
                if not b:
                    break
                d.update(b)
    return binascii.hexlify(d.digest()).decode()


def _hex(b):
    return binascii.hexlify(b).decode()


def _listing(root, want):
    if want and hashlib is None:
        return {'error': 'no hashlib on this firmware: sha256 cannot be computed on the board'}
    try:
        top = list(os.ilistdir(root))
    except Exception as e:
        return {'error': '%s cannot be listed: %s' % (root.decode(), _why(e)), 'tb': _tb(e)}
    out = []
    # Each frame: [directory path, prefix under root, its entries, index of the next one].
    stack = [[root, b'', top, 0]]
    while stack:
        fr = stack[-1]
        if fr[3] >= len(fr[2]):
            stack.pop()
            continue
        e = fr[2][fr[3]]
        fr[3] += 1
        name = e[0]
        full = fr[0] + b'/' + name
        rel = fr[1] + name
        if e[1] & 0x4000:
            try:
                sub = list(os.ilistdir(full))
            except Exception as x:
                out.append([_hex(rel + b'/'), -1, None, 'cannot be listed: ' + _why(x)])
                continue
            out.append([_hex(rel + b'/'), -1, None, None])
            stack.append([full, rel + b'/', sub, 0])
            continue
        try:
            size = os.stat(full)[6]
        except Exception as x:
            out.append([_hex(rel), 0, None, 'cannot be opened: ' + _why(x)])
            continue
        sha = None
        if want:
            try:
                sha = _sha(full)
            except Exception as x:
                out.append([_hex(rel), size, None, 'cannot be read: ' + _why(x)])
                continue
        out.append([_hex(rel), size, sha, None])
    return {'entries': out}


_hil_answer(_listing(_P['root'].encode(), _P['sha256']))
