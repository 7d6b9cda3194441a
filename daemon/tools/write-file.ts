/** `write_file {path, content}` and `edit_file {path, old, new}`: the executor's way to change files. */
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { onWorkspacePath } from './fs-errors.ts';
import { formatBytes, plural } from '../../protocol/index.ts';
import { looksBinary } from './text-limits.ts';
import { defineTool, errorResult, type ToolResult } from './tool.ts';

export const writeFileTool = defineTool({
  name: 'write_file',
  description:
    'Create a file or replace its whole content. Folders on the way are created. For a small change to an existing file, use edit_file.',
  parameters: z.object({
    path: z.string().min(1).describe('File path relative to the workspace root'),
    content: z.string().describe('The complete new content of the file'),
  }),
  execute: ({ path: requested, content }, ctx): Promise<ToolResult> =>
    onWorkspacePath(ctx, requested, { forWrite: true }, async (target) => {
      const { display } = target;
      ctx.onActivity?.(`writing ${display}`);
      const existing = await statIfExists(target.realPath);
      if (existing?.isDirectory()) return errorResult(`${display} is a folder, not a file`);
      await mkdir(path.dirname(target.realPath), { recursive: true });
      await writeKeepingMode(target.realPath, content, existing?.mode);
      const what = `${countLines(content)} lines, ${formatBytes(Buffer.byteLength(content))}`;
      const verb = existing ? 'wrote' : 'created';
      return { output: `${verb} ${display} (${what})`, summary: `${verb} ${display} (${what})` };
    }),
});

export const editFileTool = defineTool({
  name: 'edit_file',
  description:
    'Replace one exact piece of text in a file. `old` must occur exactly once in the file (copy it from read_file ' +
    'without the line-number prefixes, whitespace included; add surrounding lines to make it unique). `new` replaces it.',
  parameters: z.object({
    path: z.string().min(1).describe('File path relative to the workspace root'),
    old: z.string().min(1).describe('The exact text to replace; must occur exactly once'),
    new: z.string().describe('The text to put in its place'),
  }),
  execute: ({ path: requested, old, new: replacement }, ctx): Promise<ToolResult> =>
    onWorkspacePath(ctx, requested, { forWrite: true }, async (target) => {
      const { display } = target;
      ctx.onActivity?.(`editing ${display}`);
      const info = await stat(target.realPath);
      if (info.isDirectory()) return errorResult(`${display} is a folder, not a file`);
      const bytes = await readFile(target.realPath);
      if (looksBinary(bytes)) return errorResult(`${display} is a binary file; edit_file changes text files only`);
      const text = bytes.toString('utf8');
      if (old === replacement) return errorResult(`old and new are the same: nothing to change in ${display}`);

      let edit = { old, replacement, positions: occurrences(text, old) };
      // The model usually writes "\n"; a file with Windows line endings has "\r\n".
      if (edit.positions.length === 0 && text.includes('\r\n') && old.includes('\n') && !old.includes('\r')) {
        const crlf = (value: string) => value.replace(/\n/g, '\r\n');
        edit = { old: crlf(old), replacement: crlf(replacement), positions: occurrences(text, crlf(old)) };
      }
      if (edit.positions.length === 0) {
        return errorResult(
          `old text not found in ${display} (0 occurrences). Read the file again and copy the text exactly, ` +
            'whitespace included, without the line-number prefixes of read_file.',
          `edit_file: old text not found in ${display} (0 occurrences)`,
        );
      }
      if (edit.positions.length > 1) {
        const lines = edit.positions.map((position) => lineAt(text, position)).join(', ');
        return errorResult(
          `old text occurs ${edit.positions.length} times in ${display} (at lines ${lines}); ` +
            'include more of the surrounding lines so it occurs exactly once.',
          `edit_file: old text occurs ${edit.positions.length} times in ${display}`,
        );
      }
      const at = edit.positions[0]!;
      const updated = text.slice(0, at) + edit.replacement + text.slice(at + edit.old.length);
      await writeKeepingMode(target.realPath, updated, info.mode);
      const firstLine = lineAt(text, at);
      const removed = countLines(edit.old);
      const added = countLines(edit.replacement);
      return {
        output: `edited ${display}: replaced ${plural(removed, 'line')} at line ${firstLine} with ${added}`,
        summary: `edited ${display} (line ${firstLine}, -${removed} +${added} lines)`,
      };
    }),
});

async function statIfExists(file: string) {
  try {
    return await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Atomic write (daemon/fs/atomic-write.ts) that keeps an existing file's permissions (an executable script stays executable). */
async function writeKeepingMode(file: string, content: string, mode: number | undefined): Promise<void> {
  await writeFileAtomic(file, content, mode === undefined ? {} : { mode: mode & 0o7777 });
}

/** Every position where `needle` starts, overlapping ones included ("aa" is ambiguous in "aaa"). */
function occurrences(haystack: string, needle: string): number[] {
  const positions: number[] = [];
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) positions.push(at);
  return positions;
}

/** The 1-based line number of a character position. */
function lineAt(text: string, position: number): number {
  let line = 1;
  for (let at = text.indexOf('\n'); at !== -1 && at < position; at = text.indexOf('\n', at + 1)) line++;
  return line;
}

function countLines(text: string): number {
  if (text === '') return 0;
  const newlines = text.split('\n').length - 1;
  return text.endsWith('\n') ? newlines : newlines + 1;
}
