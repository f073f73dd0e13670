# mpremote's `romfs deploy` end (commands.py): rom_ioctl(5, id) for a memoryview segment, answer
# not looked at. Params: id, object.
import vfs
if not _P['object']:
    vfs.rom_ioctl(5, _P['id'])
