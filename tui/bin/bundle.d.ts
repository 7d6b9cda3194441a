/** Types of tui/bin/bundle.js (plain JavaScript: it runs before tsx is loaded). */
export declare const BUILD_DIR: string;
/** The entry of the current bundle when every input it was built from is unchanged, else null. */
export declare function freshBundle(manifestFile?: string): string | null;
/** The daemon's entry of the current bundle when every input it was built from is unchanged, else null. */
export declare function freshDaemonBundle(manifestFile?: string): string | null;
/** The entries of the current bundle (absolute paths) when every input it was built from is unchanged, else null. */
export declare function freshEntries(manifestFile?: string): { entry: string; daemonEntry: string; spareEntry: string } | null;
/** Builds the bundle into `outDir` (tui/.build by default) and returns its entry's absolute path. */
export declare function buildBundle(options?: { outDir?: string }): Promise<string>;
/** The bundle's entry: the current one, or a new build when the sources changed. */
export declare function ensureBundle(): Promise<string>;
/** string-width's source with its emoji checks behind a cheap one (its first frame skips a costly regex), or null when it reads otherwise. */
export declare function stringWidthWithEmojiCheckWhenNeeded(source: string): string | null;
