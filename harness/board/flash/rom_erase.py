# Erase through vfs.rom_ioctl(3, ...) after unmounting /rom. _P['args'] is the argument list
# after the command: [id, length] (every firmware: erases from the segment's start up to length)
# or [id, offset, length] (MicroPython master only: a released firmware ignores the 4th argument
# and erases [0, offset), so hil sends it only to a board whose rom_ioctl(6) proved the newer API).
# Answers the return value: the min write size, or a negative errno. Params: id, args.
if _P['id'] == 0:
    try:
        import vfs
        vfs.umount('/rom')
    except Exception:
        pass
import vfs
_hil_answer({'r': vfs.rom_ioctl(3, *_P['args'])})
