# hil's models check, inference of ONE model: ml.Model(path), a first predict on a deterministic
# input, then `runs` more for the steady latency; the outputs' values come back to be compared
# (golden files, the other pass). The model is released and the heap collected before and after
# (TFLM's first allocation takes the largest free block as its arena, so nothing of an earlier
# model may hold it). Before ml.Model and before the first predict a line `hil: loading PATH` /
# `hil: running PATH` is printed, with the board's uptime (` (uptime N ms)`, time.ticks_ms()) where
# it has one: when the board dies there (a HardFault), the console says which model and which
# stage killed it, and a board that reset there answers again with a smaller uptime, or without
# the mark this program leaves in the REPL's globals (`_P['mark']` as `_hil_mark`, read back by
# uptime.py: a reset wipes the interpreter's RAM) (harness/scenario/checks/crash.ts).
# Parameters: _P['root'], _P['path'], _P['input'] ({'kind': 'zeros'} | {'kind': 'pattern',
# 'seed': n} | {'kind': 'file', 'path': p} | {'kind': 'image', 'path': p}), _P['runs'],
# _P['maxValues'] (values sent per output; more are cut, their count is kept).
# Answer: {'ml': False, 'why'} without an ml module; else {'ml': True, 'path', 'repr',
# 'simulated', 'input', 'inputDtype', 'want', 'outputDtype', 'got', 'values', 'counts',
# 'loadUs', 'firstUs', 'steadyUs'} or, when it raised, {'ml': True, 'path', 'stage', 'tb'};
# {'ml': True, 'path', 'noInput': why} when the input cannot be made on this firmware.
import sys
import gc
if _P.get('mark'):
    globals()['_hil_mark'] = _P['mark']
try:
    import time as _time
except ImportError:
    _time = None
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


def _us():
    if _time is None or not hasattr(_time, 'ticks_us'):
        return 0
    return _time.ticks_us()


def _stage(what, p):
    if _time is not None and hasattr(_time, 'ticks_ms'):
        print('hil: %s %s (uptime %d ms)' % (what, p, _time.ticks_ms()))
    else:
        print('hil: %s %s' % (what, p))


def _since(t0):
    if _time is None or not hasattr(_time, 'ticks_us'):
        return None
    return _time.ticks_diff(_time.ticks_us(), t0)


def _dt(d):
    # ml passes the tensor's dtype as its typecode's number (ord('b')); the sim may pass a str
    return chr(d) if isinstance(d, int) else d


def _zeros(buf, shape, dtype):
    n = len(buf)
    buf[0:n] = bytes(n)


def _pattern(seed):
    # A seeded pattern: bytes from a linear congruential sequence; float tensors get values in
    # [0, 1) so that no byte pattern makes a NaN.
    def fill(buf, shape, dtype):
        x = seed & 0x7fffffff
        if _dt(dtype) == 'f':
            import struct
            for i in range(len(buf) // 4):
                x = (x * 1103515245 + 12345) & 0x7fffffff
                struct.pack_into('<f', buf, 4 * i, (x >> 15) / 65536.0)
        else:
            for i in range(len(buf)):
                x = (x * 1103515245 + 12345) & 0x7fffffff
                buf[i] = (x >> 16) & 0xff
    return fill


def _raw(path):
    # A raw tensor from the image: its bytes are the input buffer's, exactly as many.
    def fill(buf, shape, dtype):
        with open(path, 'rb') as f:
            d = f.read()
        if len(d) != len(buf):
            raise ValueError('input file %s has %d bytes; the input tensor %r takes %d' % (path, len(d), tuple(shape), len(buf)))
        buf[0:len(d)] = d
    return fill


def _inputs(spec, root, m):
    k = spec['kind']
    if k == 'zeros':
        f = _zeros
    elif k == 'pattern':
        f = _pattern(spec['seed'])
    elif k == 'file':
        f = _raw(root + '/' + spec['path'])
    else:
        try:
            import image
        except ImportError:
            return None, 'no image module on this firmware: the image input %s cannot be fed' % spec['path']
        from ml.preprocessing import Normalization
        f = Normalization()(image.Image(root + '/' + spec['path']))
    return [f for _ in m.input_shape], None


def _shape(o):
    s = getattr(o, 'shape', None)
    if s is None:
        return [len(o)]
    return [int(x) for x in s]


def _flat(o):
    # ulab's ndarray: flatten() then tolist(); a plain sequence as it is
    fl = getattr(o, 'flatten', None)
    if fl is not None:
        o = fl()
    tl = getattr(o, 'tolist', None)
    v = tl() if tl is not None else list(o)
    return [float(x) for x in v]


def _run(P):
    try:
        import ml
    except ImportError as e:
        return {'ml': False, 'why': 'no ml module on this firmware (%s)' % e}
    root = P['root']
    p = P['path']
    r = {'ml': True, 'path': p}
    m = None
    res = None
    stage = 'load'
    gc.collect()
    try:
        _stage('loading', p)
        t0 = _us()
        m = ml.Model(root + '/' + p)
        r['loadUs'] = _since(t0)
        text = str(m)
        r['repr'] = text[:300]
        r['simulated'] = bool(getattr(m, 'simulated', False)) or ('simulated' in text.lower())
        r['input'] = [[int(x) for x in s] for s in m.input_shape]
        r['inputDtype'] = [_dt(d) for d in m.input_dtype]
        r['want'] = [[int(x) for x in s] for s in m.output_shape]
        r['outputDtype'] = [_dt(d) for d in m.output_dtype]
        stage = 'input'
        fill, why = _inputs(P['input'], root, m)
        if fill is None:
            r['noInput'] = why
        else:
            stage = 'predict'
            _stage('running', p)
            t0 = _us()
            res = m.predict(fill)
            r['firstUs'] = _since(t0)
            r['got'] = [_shape(o) for o in res]
            lim = P['maxValues']
            vals = [_flat(o) for o in res]
            r['counts'] = [len(v) for v in vals]
            r['values'] = [v[:lim] for v in vals]
            vals = None
            steady = []
            for _ in range(P['runs']):
                res = None
                t0 = _us()
                res = m.predict(fill)
                steady.append(_since(t0))
            r['steadyUs'] = steady
    except BaseException as e:
        r['stage'] = stage
        r['tb'] = _tb(e)
    m = None
    res = None
    gc.collect()
    return r


_hil_answer(_run(_P))
