/**
 * skipHelpCache: running a command no longer renders its help text (yargs did, for a cache hil
 * never reads), while --help still prints it whole.
 */
import { describe, expect, it } from '@jest/globals';
import yargs, { type Argv } from 'yargs';
import { skipHelpCache } from './helpCache.js';

/** A parser with one command; `renders` counts the help texts yargs builds. */
function parser(argv: string[], skip: boolean): { p: Argv; renders: () => number; ran: () => boolean } {
  let n = 0;
  let ran = false;
  const p = yargs(argv)
    .scriptName('hil')
    .strict()
    .help()
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .command({
      command: 'build [dir]',
      describe: 'Build an image',
      builder: (y: Argv) => y.positional('dir', { type: 'string' }).option('output', { alias: 'o', type: 'string', describe: 'image file to write' }),
      handler: () => {
        ran = true;
      },
    });
  const usage = (p as unknown as { getInternalMethods(): { getUsageInstance(): { help(): string } } }).getInternalMethods().getUsageInstance();
  const help = usage.help.bind(usage);
  usage.help = () => {
    n++;
    return help();
  };
  if (skip) skipHelpCache(p);
  return { p, renders: () => n, ran: () => ran };
}

describe('skipHelpCache', () => {
  it('yargs renders the help of a command it runs (what skipHelpCache removes)', async () => {
    const x = parser(['build', 'tree', '-o', 'a.img'], false);
    await x.p.parseAsync();
    expect(x.ran()).toBe(true);
    expect(x.renders()).toBeGreaterThan(0);
  });

  it('with skipHelpCache a command runs and no help is rendered', async () => {
    const x = parser(['build', 'tree', '-o', 'a.img'], true);
    await x.p.parseAsync();
    expect(x.ran()).toBe(true);
    expect(x.renders()).toBe(0);
  });

  it('--help still prints the whole help', async () => {
    const x = parser(['build', '--help'], true);
    let printed = '';
    await x.p.parseAsync(['build', '--help'], {}, (_err: unknown, _argv: unknown, output: string) => {
      printed = output;
    });
    expect(x.ran()).toBe(false);
    expect(printed).toContain('image file to write');
  });
});
