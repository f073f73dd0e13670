/**
 * yargs renders a command's whole help text (cliui: string widths, wrapping of every option's
 * description, the examples and the epilog) each time a command runs, just after its handler
 * starts, to keep it for a help shown later (usage.cacheHelpMessage, called from
 * handleValidationAndGetResult in yargs' lib/command.js). hil never shows help then: its fail()
 * throws and main() prints one line. That render was 0.1-0.25 s of CPU in every `hil CMD`
 * process (issue 15, `hil image build` and `hil exec` start-up). `--help` still renders it (the
 * help option is handled before any handler runs).
 */
import type { Argv } from 'yargs';

interface YargsInternals {
  getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } };
}

/** Stop `parser` rendering the help of the command it runs (a no-op when yargs has no such cache). */
export function skipHelpCache(parser: Argv): void {
  const usage = (parser as unknown as YargsInternals).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}
