# Adler-32 (RFC 1950) of bytes as the sealed wrapper writes it (`a%08x`), for firmware without
# binascii.crc32: sent before sealed_define.py (which takes it out of the globals) only while the
# board is not known to have crc32 (harness/device/sealed.ts).


def _hil_adler(b):
    a = 1
    c = 0
    for x in b:
        a = (a + x) % 65521
        c = (c + a) % 65521
    return 'a%08x' % ((c << 16) | a)
