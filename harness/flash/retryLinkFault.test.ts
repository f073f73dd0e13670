/** Which failures of a repeatable flash step are tried again, and which end it at once. */
import { expect, it } from '@jest/globals';
import { retryLinkFault } from './retryLinkFault.js';
import { silentProgress } from './progress.js';
import { BoardRefusedError } from './errors.js';
import { LinkClosedError } from '../transport/errors.js';
import { DeviceExceptionError } from '../repl/errors.js';
import { AnswerIntegrityError } from '../device/sealed.js';

function failing(errors: Error[], value = 'ok'): { fn: () => Promise<string>; calls: () => number } {
  let n = 0;
  return {
    fn: async () => {
      const e = errors[n++];
      if (e) throw e;
      return value;
    },
    calls: () => n,
  };
}

it('tries a step again after a dropped link or a damaged answer, then returns its value', async () => {
  const f = failing([new LinkClosedError('cam: link closed', 'erase'), new AnswerIntegrityError('cam: erase answer arrived damaged', 'erase')]);
  await expect(retryLinkFault('erase', f.fn, silentProgress)).resolves.toBe('ok');
  expect(f.calls()).toBe(3);
});

it('gives up after the retries with the link error itself (exit 3, phase kept)', async () => {
  const f = failing([1, 2, 3, 4].map(() => new LinkClosedError('cam: link closed', 'erase')));
  const e = await retryLinkFault('erase', f.fn, silentProgress, 2).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(LinkClosedError);
  expect((e as LinkClosedError).exitCode).toBe(3);
  expect((e as LinkClosedError).phase).toBe('erase');
  expect(f.calls()).toBe(3);
});

it('never repeats a refusal or a board exception', async () => {
  const refused = failing([new BoardRefusedError('cam: board refused erase', 'erase', -5)]);
  await expect(retryLinkFault('erase', refused.fn, silentProgress)).rejects.toBeInstanceOf(BoardRefusedError);
  expect(refused.calls()).toBe(1);
  const raised = failing([new DeviceExceptionError('cam', 'Traceback (most recent call last):\nOSError: 5')]);
  await expect(retryLinkFault('erase', raised.fn, silentProgress)).rejects.toBeInstanceOf(DeviceExceptionError);
  expect(raised.calls()).toBe(1);
});
