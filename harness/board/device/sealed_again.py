# Prints again the answer frame the sealed wrapper (sealed.py) kept for the send with nonce
# _P['n'], as the last line of output; prints nothing when the board holds no frame of that send.
# Only reads: the host may send it as often as it needs (harness/device/sealed.ts).


def _hil_again(n):
    f = globals().get('_hil_last')
    if f is not None and f[6:22] == n:
        print('\n' + f)


_hil_again(globals().pop('_P')['n'])
del _hil_again
