/** Parsing of the `ralph` command line against the command table (no processes: the end-to-end file runs those). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommandLine, parseGoalId, type ParsedCommandLine } from '../../tui/cli/commands.ts';
import { UsageError } from '../../tui/cli/errors.ts';

function command(argv: string[]): Extract<ParsedCommandLine, { kind: 'command' }> {
  const parsed = parseCommandLine(argv);
  assert.equal(parsed.kind, 'command', `expected a command for ${argv.join(' ')}`);
  return parsed as Extract<ParsedCommandLine, { kind: 'command' }>;
}

function usageError(argv: string[], message: RegExp): void {
  assert.throws(
    () => parseCommandLine(argv),
    (error: unknown) => {
      assert.ok(error instanceof UsageError, `a UsageError for ${argv.join(' ')}, got ${String(error)}`);
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('parseCommandLine', () => {
  it('finds the command with --repo, --json and its options anywhere on the line', () => {
    const add = command(['--repo', '/r', 'goal', '--title', 'Ship it', 'add', '--queue', '--json']);
    assert.deepEqual(add.spec.words, ['goal', 'add']);
    assert.equal(add.repo, '/r');
    assert.equal(add.context.json, true);
    assert.equal(add.context.options.title, 'Ship it');
    assert.equal(add.context.options.queue, true);
    assert.deepEqual(add.context.args, []);

    const show = command(['goal', 'show', '--repo=/r', '#3']);
    assert.deepEqual(show.spec.words, ['goal', 'show']);
    assert.deepEqual(show.context.args, ['#3']);
    assert.equal(show.repo, '/r');

    const logs = command(['logs', '-f', '7']);
    assert.equal(logs.context.options.follow, true);
    assert.deepEqual(logs.context.args, ['7']);
  });

  it('the bare command is the TUI; the bare daemon is its status, or start with --foreground', () => {
    assert.deepEqual(command([]).spec.words, []);
    assert.equal(command(['--repo', '/r']).repo, '/r');
    assert.deepEqual(command(['daemon']).spec.words, ['daemon', 'status']);
    const foreground = command(['daemon', '--foreground']);
    assert.deepEqual(foreground.spec.words, ['daemon', 'start']);
    assert.equal(foreground.context.options.foreground, true);
    assert.deepEqual(foreground.context.args, []);
  });

  it('refuses bad usage with a UsageError that names the culprit', () => {
    usageError(['frobnicate'], /unknown command 'frobnicate'/);
    usageError(['goal'], /'goal' needs a command: add, list, show/);
    usageError(['goal', 'frob'], /unknown command 'goal frob'/);
    usageError(['goal', 'list', '--bogus'], /unknown option '--bogus'/);
    usageError(['goal', 'list', '--title', 'x'], /unknown option '--title'/);
    usageError(['goal', 'add', '--title'], /--title needs a value/);
    usageError(['logs', '1', '--follow=yes'], /--follow does not take a value/);
    usageError(['goal', 'show'], /missing argument ID/);
    usageError(['goal', 'show', '1', '2'], /unexpected argument '2'/);
    usageError(['--json'], /--json does not apply to ralph$/);
  });

  it('answers --help anywhere, and help WORDS, with the usage text', () => {
    const leaf = parseCommandLine(['goal', 'add', '--bogus', '-h']);
    assert.equal(leaf.kind, 'help');
    assert.match(leaf.kind === 'help' ? leaf.text : '', /^Usage: ralph goal add --title T \[--spec-file F \| --spec TEXT\] \[--queue\]/);
    const group = parseCommandLine(['help', 'goal']);
    assert.match(group.kind === 'help' ? group.text : '', /^Usage: ralph goal <command>/);
    const top = parseCommandLine(['--help']);
    assert.match(top.kind === 'help' ? top.text : '', /Exit codes: 0 success, 1 failure, 2 bad usage/);
  });

  it('takes one or more questions for research', () => {
    const parsed = parseCommandLine(['research', 'why?', 'how?', '--json']);
    assert.deepEqual(parsed.kind === 'command' ? [parsed.context.args, parsed.context.json] : [], [['why?', 'how?'], true]);
    assert.throws(
      () => parseCommandLine(['research']),
      (error: unknown) => error instanceof UsageError && /missing argument QUESTION/.test(error.message),
    );
  });
});

describe('parseGoalId', () => {
  it('takes a positive integer, with or without #', () => {
    assert.equal(parseGoalId('3', 'goal show'), 3);
    assert.equal(parseGoalId('#42', 'goal show'), 42);
  });

  for (const bad of ['0', '-1', '1.5', 'abc', '', '3x', '1e3']) {
    it(`refuses '${bad}'`, () => {
      assert.throws(() => parseGoalId(bad, 'goal show'), UsageError);
    });
  }
});
