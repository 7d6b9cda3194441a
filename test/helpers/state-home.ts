/**
 * A state folder for this test process ($XDG_STATE_HOME for the daemons it starts), so goal
 * worktrees never land in the developer's ~/.local/state. Removed when the process exits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TEST_STATE_HOME = mkdtempSync(path.join(os.tmpdir(), 'ralph-state-'));
export const TEST_WORKTREES_ROOT = path.join(TEST_STATE_HOME, 'ralph', 'worktrees');

process.once('exit', () => rmSync(TEST_STATE_HOME, { recursive: true, force: true }));
