# qemu port (MPS2/MPS3 boards): ROMFS in RAM, memoryviews only; commands other than 1 and 2 are
# -EINVAL (ports/qemu/vfs_rom_ioctl.c), whatever the API generation. A RAM segment is written
# through uctypes.bytearray_at.
EINVAL = -22


def rom_ioctl_for(segments, api):
    def rom_ioctl(*args):
        cmd = int(args[0])
        if cmd == 1:
            return len(segments)
        if len(args) < 2:
            return EINVAL
        rid = int(args[1])
        if not 0 <= rid < len(segments):
            return EINVAL
        if cmd == 2:
            return segments[rid].mv
        return EINVAL

    return rom_ioctl
