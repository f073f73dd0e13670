# After the link dropped under a model: the board's uptime, time.ticks_ms() (null without it),
# and the mark inference.py left in the REPL's globals before it loaded the model (null when it
# is gone). A board that answers with less uptime than it had as the model began, or without the
# mark (a reset wipes the interpreter's RAM), has rebooted (harness/scenario/checks/crash.ts).
try:
    import time as _time
except ImportError:
    _time = None
_hil_answer({
    'ms': _time.ticks_ms() if _time is not None and hasattr(_time, 'ticks_ms') else None,
    'mark': globals().get('_hil_mark'),
})
