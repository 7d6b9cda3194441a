/**
 * shell-words.ts against the corpus of tricky lines (test/shell/corpus.ts): every simple command
 * bash would run is found, with its words, and nothing that is not a command is taken for one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandSet, SHELL_CORPUS } from '../../test/shell/corpus.ts';
import { splitCommands } from './shell-words.ts';

/** The words of each command found, leading assignments left out; a line of assignments alone runs no command. */
function commandsFound(line: string): string[][] {
  return splitCommands(line)
    .map((command) => {
      const first = command.words.findIndex((word) => !word.isAssignment);
      return first === -1 ? [] : command.words.slice(first).map((word) => word.value);
    })
    .filter((words) => words.length > 0);
}

test(`shell-words finds exactly the commands of each of the ${SHELL_CORPUS.length} corpus lines`, () => {
  const wrong = SHELL_CORPUS.flatMap(({ line, commands }) => {
    const found = commandSet(commandsFound(line));
    const expected = commandSet(commands);
    return JSON.stringify(found) === JSON.stringify(expected)
      ? []
      : [{ line, missed: expected.filter((c) => !found.includes(c)), extra: found.filter((c) => !expected.includes(c)) }];
  });
  assert.deepEqual(wrong, []);
});
