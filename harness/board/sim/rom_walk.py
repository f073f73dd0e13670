# Puts a ROMFS image at the start of segment 0 and walks it through the board's own /rom the way
# firmware users do (used by hil's test of the simulated board against the VfsRom corpus, and
# runs as well on any board with the rom_ioctl API): erase `_P['erase']` bytes from the segment
# start, write the image padded to the min write with 0xFF, remount /rom with
# vfs.VfsRom(vfs.rom_ioctl(2, 0)), then list every directory in `_P['dirs']`, open every file in
# `_P['files']` and stat every path in `_P['stat']`. Paths are inside the image ('' the root;
# 'hex:' + bytes for a path that is not UTF-8). Prints one JSON line (results in the order given).
import vfs, os, uctypes, hashlib, binascii, json

_NAMES = {1: 'EPERM', 2: 'ENOENT', 5: 'EIO', 19: 'ENODEV', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL', 95: 'EOPNOTSUPP'}
ENDLESS = 5000


def err(e):
    if isinstance(e, OSError) and e.args and isinstance(e.args[0], int):
        return {'error': _NAMES.get(e.args[0], 'errno %d' % e.args[0])}
    return {'error': type(e).__name__}


def path(p):
    if p.startswith('hex:'):
        return b'/rom/' + binascii.unhexlify(p[4:])
    return '/rom/' + p


def raw(name):
    return binascii.hexlify(name.encode() if isinstance(name, str) else name).decode()


def listing(p):
    names = []
    try:
        for e in os.ilistdir(path(p)):
            names.append(raw(e[0]))
            if len(names) > ENDLESS:
                return {'error': 'endless', 'partial': names[:ENDLESS]}
    except Exception as e:
        r = err(e)
        r['partial'] = names
        if r['error'] == 'UnicodeError':
            pb = path(p)
            r['raw'] = [raw(e[0]) for e in os.ilistdir(pb if isinstance(pb, bytes) else pb.encode())]
        return r
    return names


def opened(p, part):
    try:
        f = open(path(p), 'rb')
    except Exception as e:
        return err(e)
    size = len(memoryview(f))
    offset = uctypes.addressof(f) - uctypes.addressof(part)
    # len() is a 31-bit small int on a 32-bit board: 2**30 reads back as -2**30
    if offset < 0 or offset + size % (1 << 31) > len(part):
        return {'size': size, 'offset': offset, 'outside': True}
    return {'size': size, 'offset': offset, 'sha256': binascii.hexlify(hashlib.sha256(memoryview(f)).digest()).decode()}


def stated(p):
    try:
        st = os.stat(path(p))
        return [st[0], st[6]]
    except Exception as e:
        return err(e)


img = binascii.unhexlify(_P['image'])
mw = vfs.rom_ioctl(3, 0, _P['erase'])
pad = (-len(img)) % mw if mw > 0 else 0
out = {'erase': mw, 'write': vfs.rom_ioctl(4, 0, 0, img + b'\xff' * pad)}
try:
    vfs.umount('/rom')
except OSError:
    pass
part = vfs.rom_ioctl(2, 0)
try:
    vfs.mount(vfs.VfsRom(part), '/rom')
    out['mount'] = 'ok'
except Exception as e:
    out['mount'] = err(e)
if out['mount'] == 'ok':
    out['dirs'] = [listing(p) for p in _P['dirs']]
    out['files'] = [opened(p, part) for p in _P['files']]
    out['stat'] = [stated(p) for p in _P['stat']]
print(json.dumps(out))
