# stm32 XSPI NOR flash (OpenMV N6: ROMFS0 24 MiB at 0x70800000).
# ports/stm32/vfs_rom_ioctl.c (MICROPY_HW_ROMFS_ENABLE_EXTERNAL_XSPI), ports/stm32/spibdev.c.
EIO = -5


class Medium:
    def __init__(self, seg):
        self.seg = seg

    def valid(self, dest):
        # xspi_is_valid_addr(): the XSPI window is larger than the partition.
        return dest >= 0

    def erase(self, dest, dest_max):
        # spi_bdev_eraseblocks_raw(bdev, dest // 4096, dest_max - dest + 4095): whole 4 KiB
        # blocks from the one holding dest, while at least a block's worth of bytes is left.
        seg = self.seg
        eb = seg.eraseBlock
        blk = dest // eb
        nbytes = dest_max - dest + eb - 1
        if nbytes < 0:
            # uint32_t in C: the firmware would erase on past the segment; here up to its end.
            nbytes = seg.size
        while nbytes >= eb and blk * eb < seg.size:
            if seg.failing():
                return EIO
            seg.fill(blk * eb, eb)
            blk += 1
            nbytes -= eb
        return seg.minWrite

    def write(self, dest, data):
        # spi_bdev_writeblocks_raw() -> mp_spiflash_write(): NOR programming, no error for
        # bytes that were not erased.
        if self.seg.failing():
            return EIO
        self.seg.nor_program(dest, data)
        return 0

    def min_prepare(self):
        # master: MP_SPIFLASH_ERASE_BLOCK_SIZE
        return self.seg.eraseBlock
