export type { Transport } from './transport.js';
export { RxBuffer } from './rxBuffer.js';
export { SerialTransport, listSerialPorts } from './serialTransport.js';
export { TcpTransport } from './tcpTransport.js';
export { LinkTimeoutError, LinkClosedError, LinkGoneError, LinkOpenError, NoSuchPortError, PortBusyError, PortPermissionError } from './errors.js';
