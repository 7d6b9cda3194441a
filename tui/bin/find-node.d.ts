/** Types of tui/bin/find-node.js (plain JavaScript: the bin runs it on any Node, before the version check). */
/** Ralph's oldest Node major version. */
export declare const MIN_NODE_MAJOR: number;
/** The variable set on a command handed over to the packaged Node. */
export declare const HANDED_OVER: string;
/** The Node this package ships, or null when it is not installed. */
export declare function packagedNode(): string | null;
/** Runs this command again in `node` and exits as it exits; never returns. */
export declare function handOver(node: string): void;
