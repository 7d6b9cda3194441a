/** `read_file {path}`: a text file with line numbers, capped; binary files are named, not shown. */
import { open } from 'node:fs/promises';
import { z } from 'zod';
import { onWorkspacePath } from './fs-errors.ts';
import { formatBytes } from '../../protocol/index.ts';
import { clipLine, looksBinary } from './text-limits.ts';
import { defineTool, errorResult, type ToolResult } from './tool.ts';

export const READ_LIMITS = {
  /** Bytes of the file read at most (a bigger file is shown truncated). */
  maxBytes: 100 * 1024,
  maxLines: 2000,
  /** Characters per line (minified code can be one enormous line). */
  maxLineLength: 1000,
};

export const readFileTool = defineTool({
  name: 'read_file',
  description:
    'Read a text file of the workspace. Each line is prefixed with its number and a tab (not part of the file). ' +
    `Files over ${READ_LIMITS.maxLines} lines or ${formatBytes(READ_LIMITS.maxBytes)} are truncated.`,
  parameters: z.object({
    path: z.string().min(1).describe('File path relative to the workspace root'),
  }),
  execute: ({ path: requested }, ctx): Promise<ToolResult> =>
    onWorkspacePath(ctx, requested, {}, (target) => {
      ctx.onActivity?.(`reading ${target.display}`);
      return readNumbered(target.realPath, target.display);
    }),
});

async function readNumbered(file: string, display: string): Promise<ToolResult> {
  const handle = await open(file, 'r');
  let bytes: Buffer;
  let size: number;
  try {
    const info = await handle.stat();
    if (info.isDirectory()) return errorResult(`${display} is a folder: use list_files to see what is in it`);
    // A FIFO or a device would block or never end.
    if (!info.isFile()) return errorResult(`${display} is not a regular file`);
    size = info.size;
    const buffer = Buffer.alloc(Math.min(size, READ_LIMITS.maxBytes));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    bytes = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }

  if (looksBinary(bytes)) {
    return {
      output: `${display} is a binary file (${formatBytes(size)}); it is not shown.`,
      summary: `read ${display} (binary, ${formatBytes(size)})`,
    };
  }
  if (size === 0) return { output: `${display} is empty.`, summary: `read ${display} (empty)` };

  const cutByBytes = size > bytes.length;
  let lines = bytes.toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop(); // the file's final newline ends a line, it does not start one
  if (cutByBytes && lines.length > 1) lines.pop(); // the last line read is only part of a line
  const cutByLines = lines.length > READ_LIMITS.maxLines;
  if (cutByLines) lines = lines.slice(0, READ_LIMITS.maxLines);

  const width = String(lines.length).length;
  const numbered = lines.map(
    (line, index) => `${String(index + 1).padStart(width)}\t${clipLine(line.replace(/\r$/, ''), READ_LIMITS.maxLineLength)}`,
  );
  if (cutByBytes || cutByLines) {
    numbered.push(
      `[truncated: showing lines 1–${lines.length} of ${display} (${formatBytes(size)}); ` +
        'use search_files to find the lines you need further down]',
    );
    return { output: numbered.join('\n'), summary: `read ${display} (first ${lines.length} lines, truncated)` };
  }
  return { output: numbered.join('\n'), summary: `read ${display} (${lines.length} lines)` };
}
