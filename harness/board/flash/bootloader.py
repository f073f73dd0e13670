# Enter the DFU bootloader: machine.bootloader() writes a magic word and resets, so the link
# drops and no answer comes (../shared/docs/firmware.md). Sent as a plain program, not sealed.
import machine
machine.bootloader()
