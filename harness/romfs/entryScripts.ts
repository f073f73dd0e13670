/**
 * Scripts the firmware runs by name, as source: `boot.py`, then `main.py`, from the current
 * folder at start-up (MicroPython ports/stm32/boardctrl.c, boardctrl_run_boot_py and
 * boardctrl_run_main_py, through pyexec_file_if_exists, which stats and parses the `.py` file; a
 * `main.mpy` is never run). Compiled, they would silently stop running, so they ship as source
 * (still compiled once to check them). Matched by file name at any depth: a module that happens
 * to be called `main` imports from its source as well.
 */
export const ENTRY_SCRIPTS: readonly string[] = ['boot.py', 'main.py'];

/** Is this file (path inside the image) a script the firmware runs by name (kept as source)? */
export function isEntryScript(path: string): boolean {
  return ENTRY_SCRIPTS.includes(path.slice(path.lastIndexOf('/') + 1));
}
