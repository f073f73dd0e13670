# hil's models check, placement: where each model's data sits in the board's memory
# (uctypes.addressof of a file opened on ROMFS is the address of its bytes in the partition)
# and its first bytes, so the host can judge alignment and prove which data is there.
# With _P['ml'] (the inference follows), it also says whether the firmware has `ml`, so a board
# without it is not sent the inference program (models.inference is SKIP there).
# Parameters: _P['root'], _P['paths'] (model paths under root), _P['head'] (bytes to read), _P['ml'].
# Answer: {'models': [[path, address, head_hex, traceback], ...], 'noMl': None or the ImportError's
# text} or {'error': why}. Any other error importing ml is not judged here (noMl None): the
# inference program then meets it itself.
import sys
import binascii
try:
    import uctypes
except ImportError:
    uctypes = None
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


def _no_ml():
    try:
        import ml
    except ImportError as e:
        return str(e)
    except Exception:
        pass
    return None


def _place(root, paths, n, want_ml):
    if uctypes is None:
        return {'error': 'no uctypes module on this firmware: in-place addresses cannot be read'}
    out = []
    for p in paths:
        try:
            f = open(root + '/' + p, 'rb')
            try:
                a = uctypes.addressof(f)
                h = f.read(n)
            finally:
                f.close()
            out.append([p, a, binascii.hexlify(h).decode(), None])
        except Exception as e:
            out.append([p, None, None, _tb(e)])
    return {'models': out, 'noMl': _no_ml() if want_ml else None}


_hil_answer(_place(_P['root'], _P['paths'], _P['head'], _P['ml']))
