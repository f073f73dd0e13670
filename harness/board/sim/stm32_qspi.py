# stm32 QSPI NOR flash (OpenMV H7 Plus, Pure Thermal; Arduino Nicla Vision, Portenta H7, Giga).
# ports/stm32/vfs_rom_ioctl.c (MICROPY_HW_ROMFS_ENABLE_EXTERNAL_QSPI), drivers/memory/spiflash.c:
# qspi_is_valid_addr() takes the whole QSPI window; mp_spiflash_erase_block(dest) erases the
# 4 KiB block holding dest, dest += 4 KiB, answering 4 (the min write); mp_spiflash_write()
# programs any length at any address, page by page; master's min prepare is
# MP_SPIFLASH_ERASE_BLOCK_SIZE. All of it is nor.py's BlockErased.
from _sim_nor import BlockErased as Medium  # noqa: F401
