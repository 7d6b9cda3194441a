/** The two kinds of failure a command reports: bad usage (exit 2) and everything else (exit 1). */

/** The command line itself is wrong: unknown command or flag, missing or malformed argument. */
export class UsageError extends Error {
  /** The command words whose help explains the right usage ('goal add'), when known. */
  readonly helpFor: string | undefined;
  constructor(message: string, helpFor?: string) {
    super(message);
    this.name = 'UsageError';
    this.helpFor = helpFor;
  }
}

/** A failure to report as it is, in one line (exit 1). */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}
