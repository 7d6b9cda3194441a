/**
 * The daemon's logging, as every part of it sees it: a function taking one line. The daemon decides
 * where lines go (foreground: stderr; background: .ralph/daemon.log, see daemon-log.ts) and redacts
 * its secrets from them; the services only write.
 */

/** One line of daemon-side logging. */
export type Log = (message: string) => void;
