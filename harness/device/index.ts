export type { Device, ExecOptions, ExecResult, BinaryReceiver, BinaryTransferOptions, BinaryTransferResult, Transcript, TranscriptRecord } from './types.js';
export { openDevice, type OpenDeviceOptions } from './openDevice.js';
export { ReplDevice } from './replDevice.js';
export { QemuBoard } from './qemu.js';
export { parseConnection, type Connection } from './connection.js';
export { DeviceExceptionError, ProtocolError, TransferIntegrityError } from '../repl/errors.js';
