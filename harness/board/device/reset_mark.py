# Marks the interpreter before a hard reset (harness/device/replDevice.ts hardReset): a board that
# really reset has lost the mark.
import sys

sys.path.append('/hil-before-reset')
