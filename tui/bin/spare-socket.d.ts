/** Types of tui/bin/spare-socket.js (plain JavaScript: the thin `ralph` loads it before anything else). */
/** Why a spare cannot be used here. */
export declare class SpareUnavailable extends Error {}
/** The private folder (0700, this user's, no link) of this user's spares, made when missing. */
export declare function spareFolder(env?: NodeJS.ProcessEnv): string;
/** The socket of the spare TUI for a repository root. */
export declare function spareSocketPath(repoRoot: string, env?: NodeJS.ProcessEnv): string;
/** The first folder up from `dir` that holds `.git`, as a real path, or null. */
export declare function findRepoRootQuickly(dir: string): string | null;
/** 64 bits of FNV-1a as 16 hex digits. */
export declare function hashOf(text: string): string;
