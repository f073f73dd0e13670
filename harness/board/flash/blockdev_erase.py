# Erase blocks from..to-1 of a block-device segment (mimxrt.Flash): dev.ioctl(6, blk) erases one
# block and answers 0, or 1 when the flash refused (ports/mimxrt/mimxrt_flash.c), as mpremote
# prepares it. /rom is unmounted first. Params: id, from, to.
import vfs
if _P['id'] == 0:
    try:
        vfs.umount('/rom')
    except Exception:
        pass
_dev = vfs.rom_ioctl(2, _P['id'])
_bad = None
for _b in range(_P['from'], _P['to']):
    _r = _dev.ioctl(6, _b)
    if _r != 0:
        _bad = [_b, _r]
        break
_dev = None
_hil_answer({'erased': _P['to'] - _P['from'] if _bad is None else _bad[0] - _P['from'], 'failed': _bad})
