# End of a transfer: write the padded tail, then say so.
_hil_end()
print('{"hilWritten": true}')
