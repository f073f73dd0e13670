export { Rfc2217Transport, RemotePortBusyError, type Rfc2217Options, type SerialLineControl } from './rfc2217Transport.js';
