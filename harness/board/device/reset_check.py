# Answers whether the mark of reset_mark.py is still there (the board did not reset).
import sys

_hil_answer('/hil-before-reset' in sys.path)
