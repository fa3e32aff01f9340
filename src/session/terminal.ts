/**
 * stderr is only for the user: when it cannot be written (its reader went away, a full disk), a command carries on
 * without it — a long watch keeps recording — and stops writing there.
 */
let stderrWritable = true;

/** Once per process, at the CLI's entry: an error on stderr (EPIPE) only closes it for us. */
export function carryOnWithoutStderr(): void {
  process.stderr.on('error', () => {
    stderrWritable = false;
  });
}

/** Writes to stderr while it can be written. A file on stderr fails inside write() rather than with an event. */
export function writeStderr(text: string): void {
  if (!stderrWritable) return;
  try {
    process.stderr.write(text);
  } catch {
    stderrWritable = false;
  }
}
