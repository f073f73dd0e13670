# mpremote's `romfs deploy` method, re-implemented for comparison (tools/mpremote/mpremote/
# commands.py, _do_romfs_query_partition): keeps the segment in `dev` and answers what mpremote
# reads from it. A block device: size from ioctl(4)*ioctl(5); else len(dev) and rom_ioctl(6),
# whose answer <= 0 (every release) means one block of the whole size. Params: id.
import vfs
dev = vfs.rom_ioctl(2, _P['id'])
if isinstance(dev, int) and dev < 0:
    _hil_answer({'error': 'ROMFS%d partition not found on device' % _P['id']})
elif hasattr(dev, 'ioctl'):
    _hil_answer({'object': True, 'size': dev.ioctl(4, 0) * dev.ioctl(5, 0), 'blockSize': dev.ioctl(5, 0)})
else:
    _bs = vfs.rom_ioctl(6, _P['id'])
    _hil_answer({'object': False, 'size': len(dev), 'blockSize': _bs if _bs > 0 else len(dev)})
