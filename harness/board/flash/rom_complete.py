# rom_ioctl(5, id), "write complete". No port implements it (every port, master included,
# answers -22: ../shared/docs/firmware.md); hil asks anyway and takes -22 as "not implemented".
# Params: id.
import vfs
_hil_answer({'r': vfs.rom_ioctl(5, _P['id'])})
