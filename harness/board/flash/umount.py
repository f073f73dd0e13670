# Unmount /rom (segment 0 is mounted there at boot) so nothing reads the segment while it
# changes; a soft reset mounts it again. Params: id.
if _P['id'] == 0:
    try:
        import vfs
        vfs.umount('/rom')
    except Exception:
        pass
