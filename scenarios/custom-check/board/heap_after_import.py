# Custom check board program: free heap after importing a module of the application (as a fresh
# boot would: the scenario soft-resets before its checks), after a full collection.
# Parameters: _P['module'] (module name to import).
# Answer (through _hil_answer): {'free': bytes, 'alloc': bytes} or {'error': why}.
import gc


def _measure(name):
    try:
        __import__(name)
    except Exception as e:
        return {'error': 'import %s failed: %r' % (name, e)}
    gc.collect()
    return {'free': gc.mem_free(), 'alloc': gc.mem_alloc()}


_hil_answer(_measure(_P['module']))
