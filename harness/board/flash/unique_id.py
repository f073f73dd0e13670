# The board's identity for finding it again after its bootloader ran: machine.unique_id() (hex).
try:
    import machine, binascii
    _hil_answer({'uniqueId': binascii.hexlify(machine.unique_id()).decode()})
except (ImportError, AttributeError):
    _hil_answer({'uniqueId': None})
