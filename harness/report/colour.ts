/** Colour only on a TTY and never when NO_COLOR is set (https://no-color.org), or FORCE_COLOR=0. */
export function useColour(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR === '0') return false;
  return stream.isTTY === true;
}

export interface Paint {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function paint(on: boolean): Paint {
  const w = (a: number, b: number) => (s: string) => (on ? `\x1b[${a}m${s}\x1b[${b}m` : s);
  return { green: w(32, 39), red: w(31, 39), yellow: w(33, 39), cyan: w(36, 39), dim: w(2, 22), bold: w(1, 22) };
}
