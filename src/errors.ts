/**
 * The one error type that crosses module boundaries. The CLI prints `message` as a single line and exits with
 * `exitCode`; library code never calls process.exit.
 */
export class LeakwatchError extends Error {
  constructor(
    message: string,
    /** 2 = usage / input error (bad pid, permission, unknown session); 1 is reserved for "a leak was found". */
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'LeakwatchError';
  }
}

/** The watched process is gone: it exited, or its pid was reused by another process. */
export class ProcessGoneError extends LeakwatchError {
  constructor(
    message: string,
    readonly reason: 'exited' | 'pid-reused',
  ) {
    super(message);
    this.name = 'ProcessGoneError';
  }
}
