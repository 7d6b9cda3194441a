/** File system errors in words the model can act on ("no such file: src/x.ts"), not errno codes. */
import { messageOf } from '../../protocol/index.ts';
import { WorkspacePathError } from './workspace-path.ts';

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
