# alif port (OpenMV AE3): ROMFS0 in OSPI NOR flash, ROMFS1 in MRAM. rom_ioctl has the shape of
# romioctl.py; the media are ports/alif/vfs_rom_ioctl.c's two branches.
from _sim_nor import BlockErased, EIO


class Ospi(BlockErased):
    # ospi_is_valid_addr() takes the whole OSPI XIP window; ospi_flash_erase_sector() per 4 KiB
    # from dest while dest < dest_max, answering 4; ospi_flash_write() is NOR programming; master's
    # min prepare is MICROPY_HW_FLASH_BLOCK_SIZE_BYTES. All of it is nor.py's BlockErased.
    pass


class Mram:
    # MRAM needs no erase: `(3, id, len)` only answers the min write (MRAM_SECTOR_SIZE, 16) and
    # leaves the bytes as they were. Writes go 16 bytes at a time by mram_write_128bit(), which
    # overwrites whatever is there; its destination must be 16-byte aligned (Alif's mram.c masks
    # the address, MRAM_ADDR_ALIGN_MASK), and a last partial word takes 16 bytes from the source
    # whatever follows the buffer (undefined on the cam; 0x00 here). Answers 0 always.
    def __init__(self, seg):
        self.seg = seg

    def valid(self, dest):
        return 0 <= dest < self.seg.size

    def erase(self, dest, dest_max):
        if self.seg.failing() and dest < dest_max:
            return EIO
        return self.seg.minWrite

    def write(self, dest, data):
        seg = self.seg
        if seg.failing():
            return EIO
        word = seg.minWrite
        n = (len(data) + word - 1) // word * word
        data = data + b'\x00' * (n - len(data))
        start = dest - dest % word
        n = min(n, seg.size - start)
        seg.store(start, data[:n])
        return 0

    def min_prepare(self):
        # master: MRAM_SECTOR_SIZE
        return self.seg.minWrite


def media_for(seg):
    if seg.device == 'mram':
        return Mram(seg)
    if seg.device in ('ospi', 'qspi'):
        return Ospi(seg)
    raise ValueError('alif port: no %s segment' % seg.device)
