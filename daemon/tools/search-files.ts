/** `search_files {pattern, path?}`: a regex search over the workspace's text files, git-ignored ones left out. */
import path from 'node:path';
import { z } from 'zod';
import { gitGrep, isGitWorkTree, walkGrep, type SearchLimits, type SearchOutcome } from './file-sources.ts';
import { onWorkspacePath } from './fs-errors.ts';
import { clipLine } from './text-limits.ts';
import { messageOf } from '../../protocol/index.ts';
import { clip, defineTool, errorResult, type ToolResult } from './tool.ts';

export const SEARCH_LIMITS: SearchLimits & { maxLineLength: number } = {
  maxMatches: 200,
  maxScanBytes: 20 * 1024 * 1024,
  maxFileBytes: 2 * 1024 * 1024,
  maxFiles: 20_000,
  maxLineLength: 300,
};

export const searchFilesTool = defineTool({
  name: 'search_files',
  description:
    'Search the text files of the workspace for a regular expression (Perl/JavaScript style, e.g. "create\\w+\\(") ' +
    'and get the matching lines as path:line: text. Files git ignores are skipped. ' +
    `At most ${SEARCH_LIMITS.maxMatches} matches are shown.`,
  parameters: z.object({
    pattern: z.string().min(1).describe('Regular expression to look for, matched line by line'),
    path: z.string().optional().describe('Folder or file to search, relative to the workspace root; everything when left out'),
  }),
  execute: ({ pattern, path: requested = '.' }, ctx): Promise<ToolResult> =>
    onWorkspacePath(ctx, requested, { errorPrefix: 'search_files: ' }, async (target) => {
      const { display } = target;
      ctx.onActivity?.(`searching for '${clip(pattern, 60)}'${display === '.' ? '' : ` in ${display}`}`);
      const relPath = path.relative(target.realRoot, target.realPath) || '.';
      let outcome: SearchOutcome;
      if (await isGitWorkTree(target.realRoot, ctx.signal)) {
        outcome = await gitGrep(target.realRoot, pattern, relPath, SEARCH_LIMITS, ctx.signal);
      } else {
        let regex: RegExp;
        try {
          regex = new RegExp(pattern);
        } catch (error) {
          return errorResult(`invalid regular expression: ${messageOf(error)}`);
        }
        outcome = await walkGrep(target.realRoot, regex, target.realPath, SEARCH_LIMITS, ctx.signal);
      }
      return renderMatches(pattern, display, outcome);
    }),
});

function renderMatches(pattern: string, display: string, outcome: SearchOutcome): ToolResult {
  const where = display === '.' ? '' : ` in ${display}`;
  const about = `'${clip(pattern, 60)}'${where}`;
  if (outcome.totalMatches === 0) {
    const output = `no matches for ${about}${outcome.incomplete ? ' (the search stopped early: narrow the path)' : ''}`;
    return { output, summary: `searched for ${about}: no matches` };
  }
  const plus = outcome.incomplete ? '+' : '';
  const lines = outcome.matches.map((match) => `${match.path}:${match.line}: ${clipLine(match.text, SEARCH_LIMITS.maxLineLength)}`);
  if (outcome.matches.length < outcome.totalMatches || outcome.incomplete) {
    lines.push(
      `[showing the first ${outcome.matches.length} of ${outcome.totalMatches}${plus} matches in ` +
        `${outcome.filesWithMatches}${plus} files; narrow the pattern or the path]`,
    );
  }
  const files = outcome.filesWithMatches === 1 ? 'file' : 'files';
  return {
    output: lines.join('\n'),
    summary: `searched for ${about}: ${outcome.totalMatches}${plus} matches in ${outcome.filesWithMatches}${plus} ${files}`,
  };
}
