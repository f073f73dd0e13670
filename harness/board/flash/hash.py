# sha256 (hex) of the segment's first _P['length'] bytes, computed on the board in steps of
# _P['step'] bytes (no copy of the segment), at any offset (segment.py). Params: id, length, step.
import binascii
_s = _HilSeg(_P['id'])
_e = _s.why(_P['length'])
if _e:
    _hil_answer({'error': _e})
else:
    _hil_answer({'sha256': binascii.hexlify(_hil_sha(_s, 0, _P['length'], _P['step'])).decode()})
_s = None
