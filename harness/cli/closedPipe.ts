/**
 * A reader that stops early (`hil image inspect x | head -1`) closes hil's stdout: the next write
 * fails with EPIPE. That is not an error of hil's: the output nobody reads is dropped, nothing is
 * printed about it, and the command ends with its own exit code. Any other write error on the
 * stream is still reported (as an internal error: exit 3).
 */
export function ignoreClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
    process.stderr.write(`hil: internal error: writing output: ${e.message}\n`);
    process.exitCode = 3;
  });
}
