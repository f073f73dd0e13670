/**
 * The USB serial number the OpenMV DFU bootloader reports, derived from what the application
 * answers for `machine.unique_id()` (12 bytes): the bootloader prints its 96-bit unique id as 24
 * upper-case hex digits, its 32-bit words in reverse order, each byte-swapped (openmv/openmv
 * boot/src/ports/stm32/stm32_port.c `port_get_uid` with __REV, boot/src/common/desc.c), which is
 * the 12 bytes reversed. Undefined when the id is not 12 bytes (no serial can be derived: the
 * bootloader is then found by VID:PID only, and only when exactly one is attached).
 */
export function openmvBootloaderSerial(uniqueIdHex: string | null | undefined): string | undefined {
  if (!uniqueIdHex || !/^[0-9a-fA-F]{24}$/.test(uniqueIdHex)) return undefined;
  return Buffer.from(uniqueIdHex, 'hex').reverse().toString('hex').toUpperCase();
}
