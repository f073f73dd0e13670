/**
 * The code `hil exec` runs: its argument, or stdin for `-`. Empty code (or only whitespace) is
 * refused before a board is opened: sending nothing would only soft-reboot the board.
 */
import { UsageError } from '../errors.js';

export async function readCode(given: string, stdin: NodeJS.ReadableStream = process.stdin, argv: string[] = process.argv.slice(2)): Promise<string> {
  // yargs gives a lone '-' positional as '' (it re-parses positionals as `--code -`): read the
  // command line for it.
  const arg = given === '' && argv.includes('-') ? '-' : given;
  let code = arg;
  let from = 'the code argument';
  if (arg === '-') {
    const parts: Buffer[] = [];
    for await (const chunk of stdin) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
    code = Buffer.concat(parts).toString('utf8');
    from = 'stdin';
  }
  if (code.trim() === '') throw new UsageError(`nothing to run: ${from} is empty (nothing was sent to the board)`);
  return code;
}
