/** Failure classes from hil's typed errors, and the class every failed/error result leaves with. */
import { describe, expect, it } from '@jest/globals';
import { ConfigError, HilError, ExitCode, InfraError, UsageError } from '../errors.js';
import { LinkClosedError, LinkGoneError, LinkOpenError, LinkTimeoutError, NoSuchPortError, PortBusyError } from '../transport/errors.js';
import { DeviceExceptionError, ProgramStillRunningError, ProtocolError, TransferIntegrityError } from '../repl/errors.js';
import { BoardRefusedError, FlashVerifyError, NoStrategyError } from '../flash/errors.js';
import { AnswerIntegrityError } from '../device/sealed.js';
import { NotRunError } from '../device/resend.js';
import { SimError } from '../sim/errors.js';
import { BoardIdentityError } from '../device/identify.js';
import { classifyError, withFailureClass } from './failureClass.js';

describe('classifyError', () => {
  it.each([
    ['a link closed mid-answer', 'link', new LinkClosedError('closed', 'exec')],
    ['a link gone for good', 'link', new LinkGoneError('gone', 'connect')],
    ['a port that cannot be opened', 'link', new LinkOpenError('refused', 'connect')],
    ['a port another program holds', 'link', new PortBusyError('/dev/ttyACM0')],
    ['garbage where the protocol wants OK', 'link', new ProtocolError('garbage', 'raw-repl-entry')],
    ['bytes damaged in transfer', 'link', new TransferIntegrityError('hash', 'transfer')],
    ['an answer damaged on the way', 'link', new AnswerIntegrityError('damaged', 'exec')],
    ['no answer within the deadline', 'board', new LinkTimeoutError('no answer', 'exec')],
    ['a program still running past --timeout', 'board', new ProgramStillRunningError('cam', 5000)],
    ['an InfraError in a board phase', 'board', new InfraError('reset', 'soft-reset')],
    ['an InfraError in the transfer phase', 'link', new InfraError('x', 'transfer')],
    ['a request the board found damaged (ran nothing)', 'link', new NotRunError('not run', 'exec')],
    ['the simulated board would not start', 'board', new SimError('sim')],
    ['a board refusing with an errno', 'board', new BoardRefusedError('refused', 'erase', -5)],
    ['no flashing strategy', 'board', new NoStrategyError('none')],
    ['flash bytes not matching', 'board', new FlashVerifyError('mismatch')],
    ["an exception in hil's board program", 'board', new DeviceExceptionError('cam', 'Traceback...\nOSError: 5')],
    ['bad input', 'config', new UsageError('bad')],
    ['a malformed file', 'config', new ConfigError('bad yaml')],
    ['a port that does not exist', 'config', new NoSuchPortError('no /dev/ttyACM9')],
    ['a board its profile does not fit', 'config', new BoardIdentityError('no fit')],
    ['another HilError', 'board', new HilError('x', ExitCode.VERIFY_MISMATCH)],
    ['an error hil did not expect', 'harness', new TypeError('undefined is not a function')],
    ['a thrown string', 'harness', 'boom'],
  ])('%s is %s', (_what, want, e) => {
    expect(classifyError(e)).toBe(want);
  });
});

describe('withFailureClass', () => {
  const r = (status: string, failureClass?: string) => ({ name: 'c', status, durationMs: 0, details: [], ...(failureClass ? { failureClass } : {}) }) as Parameters<typeof withFailureClass>[0];
  it('failed without a class is product; error without one takes the fallback', () => {
    expect(withFailureClass(r('failed')).failureClass).toBe('product');
    expect(withFailureClass(r('error')).failureClass).toBe('board');
    expect(withFailureClass(r('error'), 'link').failureClass).toBe('link');
  });
  it("keeps a check's own known class, replaces an unknown one, drops one on a pass", () => {
    expect(withFailureClass(r('error', 'config')).failureClass).toBe('config');
    expect(withFailureClass(r('failed', 'FLAKY')).failureClass).toBe('product');
    expect(withFailureClass(r('passed', 'link')).failureClass).toBeUndefined();
  });
});
