# vfs.rom_ioctl for ports whose segments are memoryviews over memory-mapped flash: the stm32
# port (ports/stm32/vfs_rom_ioctl.c) and the alif port (ports/alif/vfs_rom_ioctl.c) share this
# shape; what differs per medium (erase, write, the answers) is in the medium modules.
# Two API generations (../shared/docs/firmware.md): 'released' is every MicroPython tag up to
# v1.29.0-preview (commands 1-5; `(3, id, len)` erases from the segment start, a 4th argument is
# ignored); 'master' adds `(3, id, off, len)` and `(6, id)`. Command 5 is -EINVAL in both.
EINVAL = -22


def make(segments, media, api):
    master = api == 'master'

    def rom_ioctl(*args):
        cmd = int(args[0])
        if cmd == 1:
            return len(segments)
        if len(args) < 2:
            return EINVAL
        rid = int(args[1])
        if not 0 <= rid < len(segments):
            return EINVAL
        seg = segments[rid]
        med = media[rid]
        if cmd == 2:
            return seg.mv
        if cmd == 3:
            if len(args) < 3:
                return EINVAL
            if master and len(args) >= 4:
                dest = int(args[2])
                dest_max = dest + int(args[3])
            else:
                # released: dest_max = base + args[2] whatever follows, so (3, id, off, len)
                # erases [0, off) (vfs_rom_ioctl.c up to v1.29.0-preview).
                dest = 0
                dest_max = int(args[2])
            if dest_max > seg.size:
                return EINVAL
            if med.valid(dest):
                return med.erase(dest, dest_max)
            return EINVAL
        if cmd == 4:
            if len(args) < 4:
                return EINVAL
            dest = int(args[2])
            data = bytes(memoryview(args[3]))
            if dest + len(data) > seg.size:
                return EINVAL
            if med.valid(dest):
                return med.write(dest, data)
            return EINVAL
        if cmd == 6 and master:
            r = med.min_prepare()
            if r is not None:
                return r
        return EINVAL

    return rom_ioctl
