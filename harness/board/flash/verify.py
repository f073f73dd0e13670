# The proof of a flash after its soft reset, in one round trip: the sha256 of segment _P['id']'s
# first _P['length'] bytes, computed on the board in steps of _P['step'] bytes (as hash.py:
# 'sha256', or 'hashError' saying why it could not), and what /rom lists now that the firmware
# mounted the segment again (as list_rom.py: 'entries', or 'error'). Hashing after the reset
# proves the bytes the board mounted. Params: id, length, step. Needs segment.py and rom_list.py
# before it.
import binascii
_r = _hil_rom()
_s = _HilSeg(_P['id'])
_e = _s.why(_P['length'])
if _e:
    _r['hashError'] = _e
else:
    _r['sha256'] = binascii.hexlify(_hil_sha(_s, 0, _P['length'], _P['step'])).decode()
_s = None
_hil_answer(_r)
