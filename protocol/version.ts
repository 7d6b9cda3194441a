/**
 * The protocol version both sides must agree on. Bump it on any change to a schema in this folder
 * that an older peer could not read; `initialize` refuses a mismatch with a clear error.
 */
export const PROTOCOL_VERSION = 1;

/** Ralph's own version, reported by the daemon in `initialize` and `daemon.status`. */
export const RALPH_VERSION = '0.1.0';
