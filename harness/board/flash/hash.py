# sha256 (hex) of the segment's first _P['length'] bytes, computed on the board in steps of
# _P['step'] bytes (no copy of the segment), at any offset (segment.py). Params: id, length, step.
import binascii
_s = _HilSeg(_P['id'])
if _s.err:
    _hil_answer({'error': _s.err})
elif _s.size < _P['length']:
    _hil_answer({'error': 'segment %d is %d bytes, less than %d' % (_P['id'], _s.size, _P['length'])})
elif _s.reach(_P['length']):
    _hil_answer({'error': _s.reach(_P['length'])})
else:
    _hil_answer({'sha256': binascii.hexlify(_hil_sha(_s, 0, _P['length'], _P['step'])).decode()})
_s = None
