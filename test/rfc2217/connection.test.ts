/** `rfc2217://HOST:PORT` parsing (harness/device/connection.ts) and the lease key it shares with socket://. */
import { describe, expect, it } from '@jest/globals';
import { parseConnection } from '../../harness/device/connection.js';
import { boardKey } from '../../harness/bench/boardKey.js';
import { UsageError } from '../../harness/errors.js';

describe('rfc2217:// connections', () => {
  it('parses host names, IPv4 and bracketed IPv6', () => {
    expect(parseConnection('rfc2217://cam-host-2:7001')).toEqual({ kind: 'tcp', host: 'cam-host-2', port: 7001, protocol: 'rfc2217' });
    expect(parseConnection('rfc2217://10.0.0.5:2000')).toEqual({ kind: 'tcp', host: '10.0.0.5', port: 2000, protocol: 'rfc2217' });
    expect(parseConnection('rfc2217://[::1]:7001')).toEqual({ kind: 'tcp', host: '::1', port: 7001, protocol: 'rfc2217' });
    expect(parseConnection('socket://cam-host-2:7001')).toEqual({ kind: 'tcp', host: 'cam-host-2', port: 7001, protocol: 'raw' });
  });

  it.each(['rfc2217://cam-host', 'rfc2217://:7001', 'rfc2217://h:0', 'rfc2217://h:70000', 'rfc2217://h:7001/x', 'rfc2217://::1:7001', 'rfc2217://h:7001?baud=9600'])('refuses %s (exit 2)', (s) => {
    const e = (() => {
      try {
        parseConnection(s);
      } catch (x) {
        return x;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toBe(`connection '${s}': expected rfc2217://HOST:PORT`);
  });

  it('one port is one board whichever protocol names it (one lease key)', async () => {
    expect(await boardKey({ connection: 'rfc2217://127.0.0.1:7001' })).toBe(await boardKey({ connection: 'socket://localhost:7001' }));
  });
});
