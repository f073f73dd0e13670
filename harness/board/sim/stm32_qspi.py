# stm32 QSPI NOR flash (OpenMV H7 Plus, Pure Thermal; Arduino Nicla Vision, Portenta H7, Giga).
# ports/stm32/vfs_rom_ioctl.c (MICROPY_HW_ROMFS_ENABLE_EXTERNAL_QSPI), drivers/memory/spiflash.c.
EIO = -5


class Medium:
    def __init__(self, seg):
        self.seg = seg

    def valid(self, dest):
        # qspi_is_valid_addr(): the QSPI window is larger than the partition.
        return dest >= 0

    def erase(self, dest, dest_max):
        # mp_spiflash_erase_block(dest) erases the 4 KiB block holding dest, dest += 4 KiB;
        # answers 4, the min write.
        seg = self.seg
        eb = seg.eraseBlock
        while dest < dest_max:
            if seg.failing():
                return EIO
            seg.fill(dest - dest % eb, eb)
            dest += eb
        return seg.minWrite

    def write(self, dest, data):
        # mp_spiflash_write(): any length at any address, page by page; NOR programming only
        # clears bits and reports no error for bytes that were not erased.
        if self.seg.failing():
            return EIO
        self.seg.nor_program(dest, data)
        return 0

    def min_prepare(self):
        # master: MP_SPIFLASH_ERASE_BLOCK_SIZE
        return self.seg.eraseBlock
