# stm32 internal flash (OpenMV Cam H7: ROMFS0 is one 128 KiB sector at 0x081E0000).
# ports/stm32/vfs_rom_ioctl.c and ports/stm32/flash.c (STM32H7 branch).
from _sim_nor import BlockErased, EIO


class Medium(BlockErased):
    # erase: flash_erase(dest) erases the sector holding dest, then dest += sector size;
    # answers 16 (the min write); master's min prepare is flash_get_max_sector_size(), the erase
    # block: BlockErased's. Validity and writes differ.
    def valid(self, dest):
        # flash_is_valid_addr(): the partition ends where the internal flash does.
        return 0 <= dest < self.seg.size

    def write(self, dest, data):
        # vfs_rom_ioctl.c calls flash_write(dest, buf, len // 4): a tail that is not a whole
        # 32-bit word is dropped. flash.c (H7) programs 32-byte flash words: a destination not
        # 32-byte aligned is HAL_ERROR (-EIO); leftover words are padded with 0xFF into one last
        # flash word. The H7 will not program a flash word that is not erased (HAL error, -EIO).
        seg = self.seg
        unit = seg.writeUnit
        if dest % unit:
            return EIO
        if seg.failing():
            return EIO
        n = len(data) // 4 * 4
        words = []
        p = 0
        while p < n:
            k = min(unit, n - p)
            word = data[p:p + k]
            if k < unit:
                word = word + b'\xff' * (unit - k)
            words.append(word)
            p += k
        done = 0
        for word in words:
            if not seg.is_blank(dest + done, unit):
                break
            done += unit
        if done:
            seg.store(dest, b''.join(words[:done // unit]))
        return 0 if done == len(words) * unit else EIO
