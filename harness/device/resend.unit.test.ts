/** The one rule for sending a program again (resend.ts). */
import { expect, it } from '@jest/globals';
import { MAX_SENDS, NotRunError, WrapperMissingError, markNotSent, mayResend, provenNotRun, sendWithResend } from './resend.js';
import { LinkClosedError, LinkTimeoutError } from '../transport/errors.js';
import { DeviceExceptionError } from '../repl/errors.js';
import { InfraError } from '../errors.js';

it('sends again only on proof it did not run, or when the caller declared it repeatable', () => {
  const cut = new LinkClosedError('cam: link closed', 'exec');
  expect(mayResend(cut, false, 1)).toBe(false);
  expect(mayResend(cut, true, 1)).toBe('repeatable');
  expect(mayResend(new NotRunError('cam: damaged request', 'probe'), false, 1)).toBe('not-run');
  const early = markNotSent(new LinkTimeoutError('cam: no prompt', 'raw-repl-entry'));
  expect(provenNotRun(early)).toBe(true);
  expect(mayResend(early, false, 1)).toBe('not-run');
  expect(mayResend(early, false, MAX_SENDS)).toBe(false);
});

it('never sends again after a board exception, whatever its text says', () => {
  const e = new DeviceExceptionError('cam', 'Traceback (most recent call last):\n  File "<stdin>", line 1\nSyntaxError: invalid syntax');
  expect(mayResend(e, true, 1)).toBe(false);
  expect(provenNotRun(e)).toBe(false);
});

it('sendWithResend: a send refused by the board is repeated at once; a plain link fault of a non-repeatable program is thrown', async () => {
  let n = 0;
  await expect(sendWithResend(async () => (++n < 3 ? Promise.reject(new NotRunError('x', 'p')) : 'ok'))).resolves.toBe('ok');
  expect(n).toBe(3);
  n = 0;
  const e = await sendWithResend(async () => { n++; throw new InfraError('cam: answer lost', 'p'); }).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(InfraError);
  expect(n).toBe(1);
  n = 0;
  await expect(sendWithResend(async () => { n++; throw new NotRunError('x', 'p'); })).rejects.toBeInstanceOf(NotRunError);
  expect(n).toBe(MAX_SENDS);
});

it('sendWithResend: a board without the sealed wrapper gets the send again at once, once per operation, not counted', async () => {
  let n = 0;
  // One W, then damaged twice, then through: the W did not use up one of the MAX_SENDS.
  const seq = [new WrapperMissingError('cam: no wrapper', 'p'), new NotRunError('x', 'p'), new NotRunError('x', 'p')];
  await expect(sendWithResend(async () => (n < seq.length ? Promise.reject(seq[n++]) : (n++, 'ok')))).resolves.toBe('ok');
  expect(n).toBe(MAX_SENDS + 1);
  // A second W in the same operation is a proof like any other (counted).
  n = 0;
  await expect(sendWithResend(async () => { n++; throw new WrapperMissingError('cam: no wrapper', 'p'); })).rejects.toBeInstanceOf(WrapperMissingError);
  expect(n).toBe(MAX_SENDS + 1);
  expect(provenNotRun(new WrapperMissingError('cam', 'p'))).toBe(true);
});
