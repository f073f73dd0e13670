# stm32 XSPI NOR flash (OpenMV N6: ROMFS0 24 MiB at 0x70800000).
# ports/stm32/vfs_rom_ioctl.c (MICROPY_HW_ROMFS_ENABLE_EXTERNAL_XSPI), ports/stm32/spibdev.c.
from _sim_nor import BlockErased, EIO


class Medium(BlockErased):
    # xspi_is_valid_addr() takes the whole XSPI window; writes go through spi_bdev_writeblocks_raw()
    # -> mp_spiflash_write() (NOR programming): as BlockErased. Only the erase differs.
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
