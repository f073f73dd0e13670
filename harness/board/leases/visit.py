# One hil runner's visit to this board, for the shared-lease tests (harness/bench/leases/
# leases.cli.test.ts): the board itself says whether another runner was on it at the same time.
# _P['step'] 'enter': prints ON:<who is on the board> ('' when nobody), then marks _P['runner'] as
# on it. 'leave': prints ON:<who is on it> (this runner, unless another came in meanwhile),
# clears the mark and records the visit; prints VISITS:<runners so far, in order>.
# State is kept in __main__'s globals, which the raw REPL keeps between programs (no soft reset).
_g = globals()
if '_hil_on_board' not in _g:
    _g['_hil_on_board'] = ''
    _g['_hil_visits'] = []
print('ON:' + _g['_hil_on_board'])
if _P['step'] == 'enter':
    _g['_hil_on_board'] = _P['runner']
else:
    _g['_hil_on_board'] = ''
    _g['_hil_visits'].append(_P['runner'])
    print('VISITS:' + ','.join(_g['_hil_visits']))
del _g
