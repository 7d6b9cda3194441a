/** Types of tui/bin/node-flags.js (plain JavaScript: the bin uses it before tsx or the bundle loads). */
/** The V8 flags the TUI runs with. */
export declare const TUI_NODE_FLAGS: readonly string[];
/** Starts this command again in a Node given `flags` unless it has them (or Node cannot); returns only when nothing was done. */
export declare function relaunchWithNodeFlags(flags: readonly string[]): void;
/** Whether these arguments (after `ralph`) may open the TUI: a guess before the command table loads. */
export declare function mayOpenTui(args: readonly string[]): boolean;
