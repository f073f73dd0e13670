# The board's uptime, time.ticks_ms() (null without it): after the link dropped under a model, a
# board that answers with less than it had as the model began has rebooted
# (harness/scenario/checks/crash.ts).
try:
    import time as _time
except ImportError:
    _time = None
_hil_answer(_time.ticks_ms() if _time is not None and hasattr(_time, 'ticks_ms') else None)
