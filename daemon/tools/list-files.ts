/**
 * `list_files {path?}`: the files of a folder as an indented tree, without what git ignores.
 * A big folder does not flood the model: folders are opened breadth first while the listing
 * fits its line budget, and the ones that do not fit are shown closed with their file count.
 */
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { isGitWorkTree, listGitFiles, walkFiles, type FileListing } from './file-sources.ts';
import { onWorkspacePath } from './fs-errors.ts';
import { defineTool, type ToolResult } from './tool.ts';

export const LIST_LIMITS = {
  /** Lines of the tree at most. */
  maxLines: 400,
  /** Files the walk (outside git) looks at before it stops. */
  maxWalkedFiles: 20_000,
};

export const listFilesTool = defineTool({
  name: 'list_files',
  description:
    'List the files of the workspace (or of one folder in it) as a tree, leaving out what git ignores. ' +
    'Large folders are shown closed with their file count: list them on their own to see inside.',
  parameters: z.object({
    path: z.string().optional().describe('Folder relative to the workspace root; the whole workspace when left out'),
  }),
  execute: ({ path: requested = '.' }, ctx): Promise<ToolResult> =>
    onWorkspacePath(ctx, requested, {}, async ({ display, realPath }) => {
      ctx.onActivity?.(`listing ${display}`);
      if (!(await stat(realPath)).isDirectory()) return { output: `${display} (a file)`, summary: `listed ${display} (a file)` };
      const listing: FileListing = (await isGitWorkTree(realPath, ctx.signal))
        ? await listGitFiles(realPath, ctx.signal)
        : await walkFiles(realPath, LIST_LIMITS.maxWalkedFiles, ctx.signal);
      return renderListing(display, listing);
    }),
});

interface Folder {
  name: string;
  folders: Map<string, Folder>;
  files: string[];
  /** Files at any depth below. */
  fileCount: number;
}

function newFolder(name: string): Folder {
  return { name, folders: new Map(), files: [], fileCount: 0 };
}

function buildTree(files: string[]): Folder {
  const root = newFolder('');
  for (const file of files) {
    const segments = file.split('/');
    const name = segments.pop()!;
    let folder = root;
    folder.fileCount++;
    for (const segment of segments) {
      let child = folder.folders.get(segment);
      if (!child) {
        child = newFolder(segment);
        folder.folders.set(segment, child);
      }
      child.fileCount++;
      folder = child;
    }
    folder.files.push(name);
  }
  return root;
}

function entryCount(folder: Folder): number {
  return folder.folders.size + folder.files.length;
}

function sortedFolders(folder: Folder): Folder[] {
  return [...folder.folders.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Which folders to show open: breadth first, each one that still fits the line budget. */
function chooseOpenFolders(root: Folder, budget: number): Set<Folder> {
  const open = new Set<Folder>([root]);
  let lines = entryCount(root);
  const queue = sortedFolders(root);
  // An index, not shift(): a repository can have tens of thousands of folders.
  for (let index = 0; index < queue.length; index++) {
    const next = queue[index]!;
    if (lines + entryCount(next) > budget) continue;
    open.add(next);
    lines += entryCount(next);
    queue.push(...sortedFolders(next));
  }
  return open;
}

function renderListing(display: string, listing: FileListing): ToolResult {
  const count = listing.files.length;
  if (count === 0) {
    return { output: `${display}: no files (files git ignores are not listed)`, summary: `listed ${display} (no files)` };
  }
  const root = buildTree(listing.files);
  const open = chooseOpenFolders(root, LIST_LIMITS.maxLines);
  const lines: string[] = [];
  let closedFolders = 0;
  const render = (folder: Folder, indent: string): void => {
    for (const child of sortedFolders(folder)) {
      if (open.has(child)) {
        lines.push(`${indent}${child.name}/`);
        render(child, `${indent}  `);
      } else {
        closedFolders++;
        lines.push(`${indent}${child.name}/ (${child.fileCount} ${child.fileCount === 1 ? 'file' : 'files'})`);
      }
    }
    for (const file of [...folder.files].sort((a, b) => a.localeCompare(b))) lines.push(`${indent}${file}`);
  };
  render(root, '');
  // Only the root itself can overflow (more entries than the budget right at the top).
  let cutEntries = 0;
  if (lines.length > LIST_LIMITS.maxLines) {
    cutEntries = lines.length - LIST_LIMITS.maxLines;
    lines.length = LIST_LIMITS.maxLines;
  }

  const header = `${display === '.' ? 'the workspace' : `${display}/`}: ${count}${listing.complete ? '' : '+'} files`;
  const notes: string[] = [];
  if (closedFolders > 0) notes.push(`${closedFolders} folders are shown closed with their file count; list one to see inside`);
  if (cutEntries > 0) notes.push(`${cutEntries} more entries not shown`);
  if (!listing.complete) notes.push(`the listing stopped after ${count} files; list a subfolder`);
  const output = [header, ...lines, ...notes.map((note) => `[${note}]`)].join('\n');
  return { output, summary: `listed ${display} (${count}${listing.complete ? '' : '+'} files)` };
}
