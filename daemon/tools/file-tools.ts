/** The file tools as the agents get them (DESIGN.md, "Agent tools"). */
import { listFilesTool } from './list-files.ts';
import { readFileTool } from './read-file.ts';
import { searchFilesTool } from './search-files.ts';
import type { Tool } from './tool.ts';
import { editFileTool, writeFileTool } from './write-file.ts';

/** For the chat and research agents: look, never touch. */
export function readOnlyFileTools(): Tool[] {
  return [readFileTool, listFilesTool, searchFilesTool];
}

/** For the goal executor: look and change. */
export function fileTools(): Tool[] {
  return [...readOnlyFileTools(), writeFileTool, editFileTool];
}

export { editFileTool, listFilesTool, readFileTool, searchFilesTool, writeFileTool };
