# Host-side driver for `npm run bench -- speed` (not a board program): times real mpremote's
# transport (tools/mpremote of the MicroPython checkout named by HIL_MPREMOTE_SRC) on a serial
# device. Reads one command a line on stdin, answers one JSON line on stdout:
#   run WARMUP N   open the device, enter the raw REPL (no soft reset), WARMUP then N execs of
#                  `pass` in that one connection, leave the raw REPL, close; times the N
#                  (mean and median of the single execs, CPU per exec).
#   quit
# Usage: python3 speed_mpremote.py MPREMOTE_SRC DEVICE
import json
import sys
import time

sys.path.insert(0, sys.argv[1])
from mpremote.transport_serial import SerialTransport  # noqa: E402

device = sys.argv[2]


def run(warmup, n):
    t = SerialTransport(device, baudrate=115200)
    try:
        t.enter_raw_repl(soft_reset=False)
        for _ in range(warmup):
            t.exec("pass")
        each = []
        c0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(n):
            t1 = time.perf_counter()
            t.exec("pass")
            each.append(time.perf_counter() - t1)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        t.exit_raw_repl()
    finally:
        t.close()
    each.sort()
    return {"msPerExec": wall * 1000 / n, "medianMs": each[n // 2] * 1000, "cpuMsPerExec": cpu * 1000 / n}


for line in sys.stdin:
    words = line.split()
    if not words or words[0] == "quit":
        break
    try:
        answer = run(int(words[1]), int(words[2]))
    except Exception as e:  # reported to the bench, which fails the figure
        answer = {"error": repr(e)}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
