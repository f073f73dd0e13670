# Binary-channel sink that does nothing with the bytes: measures the link's raw rate as hil sees it.
def _hil_noop(mv, off):
    pass
