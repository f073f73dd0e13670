# mpremote's `romfs deploy` write of one chunk (commands.py), for comparison: the chunk arrives
# base64-encoded, zero-padded to the chunk size by the host, and is written with
# dev.writeblocks(offset // bs, buf, offset % bs) or rom_ioctl(4, id, offset, buf); the answer is
# not looked at (mpremote only sees exceptions). Needs `dev` (mpremote_query.py).
# Params: id, object, blockSize, offset, b64.
import vfs
from binascii import a2b_base64
buf = a2b_base64(_P['b64'].encode())
if _P['object']:
    dev.writeblocks(_P['offset'] // _P['blockSize'], buf, _P['offset'] % _P['blockSize'])
else:
    vfs.rom_ioctl(4, _P['id'], _P['offset'], buf)
