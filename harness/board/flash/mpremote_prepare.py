# mpremote's `romfs deploy` preparation (commands.py, _do_romfs_deploy), for comparison: unmount
# /rom; a block device: dev.ioctl(6, blk) for each block of the image (answers not looked at); a
# segment whose rom_ioctl(6) gave a block size: the ranged erase per 32 KiB; else the whole-range
# erase. Answers the last erase's return (mpremote's rom_min_write). Needs mpremote_query.py run
# before (`dev`). Params: id, object, blockSize, size, length.
import vfs
try:
    vfs.umount('/rom')
except:
    pass
_mw = None
if _P['object']:
    for _o in range(0, _P['length'], _P['blockSize']):
        dev.ioctl(6, _o // _P['blockSize'])
elif _P['blockSize'] < _P['size']:
    _o = 0
    while _o < _P['length']:
        _r = min(_P['length'] - _o, 32768)
        _p = (_r + _P['blockSize'] - 1) // _P['blockSize'] * _P['blockSize']
        _mw = vfs.rom_ioctl(3, _P['id'], _o, _p)
        _o += _p
else:
    _mw = vfs.rom_ioctl(3, _P['id'], _P['length'])
_hil_answer({'minWrite': _mw})
