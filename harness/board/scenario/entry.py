# hil's imports check, second part: one entry point (`module.function`, called with no arguments),
# run right after a soft reset, so the module and everything it imports load as on a freshly
# booted board (not in the table the discovery imports left behind).
# Parameters: _P['call'].
# Answer: [call, ok, json of the return value or None, repr of it or the traceback].
# Any BaseException (sys.exit(), KeyboardInterrupt raised by the code) is the entry point's
# failure, reported with the exception.
import sys
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


def _entry(call):
    i = call.rfind('.')
    name = call[:i]
    try:
        top = __import__(name)
        mod = sys.modules.get(name)
        if mod is None:
            mod = top
            for part in name.split('.')[1:]:
                mod = getattr(mod, part)
        v = getattr(mod, call[i + 1:])()
    except BaseException as e:
        return [call, False, None, _tb(e)]
    try:
        import json
        return [call, True, json.dumps(v), None]
    except BaseException:
        return [call, True, None, repr(v)]


_hil_answer(_entry(_P['call']))
