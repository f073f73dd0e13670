# What the simulated NOR flash media share (imported as `_sim_nor`): a segment inside a memory-
# mapped window larger than the partition, erased a block at a time from the block holding the
# destination while the destination is below the end (answering the min write), and programmed
# as NOR is: any length at any address, only clearing bits, no error for bytes not erased.
# Used by stm32_qspi.py (drivers/memory/spiflash.c), stm32_xspi.py (its erase differs) and
# alif.py's OSPI (ports/alif/ospi_flash.c); stm32_flash.py shares the erase loop.
EIO = -5


class BlockErased:
    def __init__(self, seg):
        self.seg = seg

    def valid(self, dest):
        # *_is_valid_addr(): the XIP window is larger than the partition.
        return dest >= 0

    def erase(self, dest, dest_max):
        # erase the block holding dest, dest += block size, while dest < dest_max.
        seg = self.seg
        eb = seg.eraseBlock
        while dest < dest_max:
            if seg.failing():
                return EIO
            seg.fill(dest - dest % eb, eb)
            dest += eb
        return seg.minWrite

    def write(self, dest, data):
        if self.seg.failing():
            return EIO
        self.seg.nor_program(dest, data)
        return 0

    def min_prepare(self):
        # master: the erase block size (MP_SPIFLASH_ERASE_BLOCK_SIZE, MICROPY_HW_FLASH_BLOCK_SIZE_BYTES)
        return self.seg.eraseBlock
