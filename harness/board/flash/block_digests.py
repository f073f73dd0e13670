# First 8 bytes (hex) of the sha256 of blocks from..to-1 (each _P['block'] bytes, the last one
# cut at _P['length']) of the segment: what resume compares with the host's digests.
# Params: id, length, block, from, to. Needs segment.py before it.
import binascii
_s = _HilSeg(_P['id'])
_N = _P['length']
_B = _P['block']
_e = _s.why(_N)
if _e:
    _hil_answer({'error': _e})
else:
    _d = []
    for _i in range(_P['from'], _P['to']):
        _a = _i * _B
        _d.append(binascii.hexlify(_hil_sha(_s, _a, min(_B, _N - _a), 16384)[:8]).decode())
    _hil_answer({'digests': _d})
_s = None
