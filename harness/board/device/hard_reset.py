# Hard reset (harness/device/replDevice.ts hardReset): the board reboots; the link drops.
import machine

machine.reset()
