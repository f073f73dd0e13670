# hil's models check, first inference: ml.Model(path) and one predict on a zero input of the
# model's input shapes, one model at a time (TFLM's first allocation takes the largest free heap
# block, so each model is released before the next).
# Parameters: _P['root'], _P['paths'].
# Answer: {'ml': False, 'why': ...} without an ml module, else {'ml': True, 'models': [
#   {'path', 'repr', 'simulated', 'input', 'want', 'got'} or {'path', 'tb'}, ...]}.
import sys
import gc
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


def _zero(buf, shape, dtype):
    try:
        buf[:] = bytes(len(buf))
    except Exception:
        for i in range(len(buf)):
            buf[i] = 0


def _shape(o):
    s = getattr(o, 'shape', None)
    if s is None:
        return [len(o)]
    return [int(x) for x in s]


def _infer(root, paths):
    try:
        import ml
    except ImportError as e:
        return {'ml': False, 'why': 'no ml module on this firmware (%s)' % e}
    out = []
    for p in paths:
        r = {'path': p}
        m = None
        res = None
        try:
            m = ml.Model(root + '/' + p)
            text = str(m)
            r['repr'] = text[:300]
            r['simulated'] = bool(getattr(m, 'simulated', False)) or ('simulated' in text.lower())
            r['input'] = [[int(x) for x in s] for s in m.input_shape]
            r['want'] = [[int(x) for x in s] for s in m.output_shape]
            res = m.predict([_zero for s in m.input_shape])
            r['got'] = [_shape(o) for o in res]
        except BaseException as e:
            r['tb'] = _tb(e)
        m = None
        res = None
        gc.collect()
        out.append(r)
    return {'ml': True, 'models': out}


_hil_answer(_infer(_P['root'], _P['paths']))
