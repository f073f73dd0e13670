# What /rom lists (rom_list.py before it): {'entries': [[path, size], ...]} or {'error': ...}.
_hil_answer(_hil_rom())
