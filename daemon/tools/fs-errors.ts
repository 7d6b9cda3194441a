/**
 * File system errors in words the model can act on ("no such file: src/x.ts"), not errno codes, and
 * the one way a file tool reaches the path the model gave (onWorkspacePath).
 */
import { messageOf } from '../../protocol/index.ts';
import { errorResult, type ToolContext, type ToolResult } from './tool.ts';
import { assertReadable, resolveWorkspacePath, WorkspacePathError, type WorkspacePath } from './workspace-path.ts';

/** How a file tool reaches its path. */
export interface PathAccess {
  /** To write it: resolved as a write target (not inside `.git`). Otherwise checked readable (not ignored, not the daemon's file). */
  forWrite?: boolean;
  /** Put before the error's words ('search_files: '). */
  errorPrefix?: string;
}

/**
 * A file tool's work on the path the model gave: resolved inside the workspace and checked for the
 * access it needs; a file system error becomes the tool's error result, in words naming the path as
 * the model wrote it (or as resolved, once it is). A cancelled turn rethrows: runTool answers it.
 */
export async function onWorkspacePath(
  ctx: ToolContext,
  requested: string,
  access: PathAccess,
  work: (target: WorkspacePath) => Promise<ToolResult>,
): Promise<ToolResult> {
  let display = requested;
  try {
    const target = await resolveWorkspacePath(ctx.root, requested, access.forWrite ? { forWrite: true } : {});
    display = target.display;
    if (!access.forWrite) await assertReadable(target, { readIgnoredFiles: ctx.readIgnoredFiles, signal: ctx.signal });
    return await work(target);
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    return errorResult(`${access.errorPrefix ?? ''}${describeFsError(error, display)}`);
  }
}

export function describeFsError(error: unknown, display: string): string {
  if (error instanceof WorkspacePathError) return error.message;
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return `no such file or folder: ${display}`;
    case 'ENOTDIR':
      return `not a folder (a file is in the way): ${display}`;
    case 'EISDIR':
      return `${display} is a folder, not a file`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied: ${display}`;
    case 'ELOOP':
      return `too many levels of symlinks: ${display}`;
    default:
      return messageOf(error);
  }
}
