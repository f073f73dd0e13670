/**
 * Board output shown on a terminal is made visible, not executed: a board (or a program on it)
 * that prints ESC sequences, a lone carriage return or a bell must not recolour, clear, retitle or
 * overwrite the console of whoever reads the result. Control characters other than newline and tab
 * (C0, DEL, and the C1 range) are written as `\xNN` escapes; `\r\n` stays a line end.
 */
export function visibleControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\r\n|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => (c === '\r\n' ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
