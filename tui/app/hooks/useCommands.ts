/**
 * Runs what the keys ask of the daemon (commands from keys/interpret.ts) and turns the outcome
 * into a notice line: an error says what failed and why; nothing typed is ever lost (a message that
 * could not be sent goes back into the input, an edited spec that could not be saved is kept in a
 * file the notice names).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useCallback } from 'react';
import { messageOf, plural, type MethodName } from '../../../protocol/index.ts';
import type { DaemonConnection } from '../connection.ts';
import type { ExternalEditor } from '../editor.ts';
import type { Command, GoalVerb } from '../keys/interpret.ts';
import { openAgentPicker } from '../state/agent-picker.ts';
import { answerFromFile, answerTemplate } from '../state/inbox-state.ts';
import type { Notice } from '../state/ui-state.ts';
import type { ViewAction, ViewState } from '../state/view-state.ts';

const GOAL_METHODS = {
  queue: 'goal.queue',
  pause: 'goal.pause',
  cancel: 'goal.cancel',
  retry: 'goal.retry',
  land: 'goal.land',
} as const satisfies Record<GoalVerb, MethodName>;

export function useCommands(
  connection: DaemonConnection,
  current: () => ViewState,
  dispatch: (action: ViewAction) => void,
  editor: ExternalEditor,
): (command: Command) => void {
  return useCallback(
    (command: Command) => {
      const notice = (value: Notice | null) => dispatch({ kind: 'ui', action: { kind: 'notice', notice: value } });
      const failed = (text: string) => notice({ tone: 'error', text });
      const info = (text: string) => notice({ tone: 'info', text });
      notice(null); // a new request: the last one's notice is done with

      switch (command.kind) {
        case 'goal': {
          const { verb, goalId } = command;
          if (verb === 'land') {
            connection.request('goal.land', { id: goalId }).then(
              ({ commit, files }) => info(`landed #${goalId} as ${commit.slice(0, 10)} (${plural(files.length, 'file')})`),
              (error: unknown) => failed(`could not land #${goalId}: ${messageOf(error)}`),
            );
            return;
          }
          // The pipeline changes with the daemon's goal.updated event, not with this answer.
          connection
            .request(GOAL_METHODS[verb], { id: goalId })
            .catch((error: unknown) => failed(`could not ${verb} #${goalId}: ${messageOf(error)}`));
          return;
        }
        case 'create-goal':
          connection.request('goal.create', { title: command.title }).then(
            ({ goal }) => {
              dispatch({ kind: 'select-goal', id: goal.id });
              info(`created draft #${goal.id}: edit its spec, then queue it`);
            },
            (error: unknown) => {
              failed(`could not create the goal: ${messageOf(error)}`);
              // The title comes back, to fix and send again.
              dispatch({
                kind: 'ui',
                action: { kind: 'prompt', prompt: { kind: 'new-goal', line: { text: command.title, cursor: [...command.title].length } } },
              });
            },
          );
          return;
        case 'pipeline': {
          const verb = command.pause ? 'pause' : 'resume';
          connection
            .request(command.pause ? 'pipeline.pause' : 'pipeline.resume', {})
            .catch((error: unknown) => failed(`could not ${verb} the pipeline: ${messageOf(error)}`));
          return;
        }
        case 'chat-send':
          connection.request('chat.send', { text: command.text }).catch((error: unknown) => {
            failed(`could not send: ${messageOf(error)}`);
            dispatch({ kind: 'ui', action: { kind: 'chat-restore', text: command.text } });
          });
          return;
        case 'answer-question':
          answerQuestion(connection, current, command.questionId, editor, info, failed);
          return;
        case 'chat-new':
          connection.request('chat.new', {}).catch((error: unknown) => failed(`could not start a new session: ${messageOf(error)}`));
          return;
        case 'chat-interrupt':
          connection.request('chat.interrupt', {}).catch((error: unknown) => failed(`could not interrupt: ${messageOf(error)}`));
          return;
        case 'edit-spec':
          editSpec(connection, current, command.goalId, editor, info, failed);
          return;
        case 'choose-agent': {
          const { goalId } = command;
          // Finding the CLIs may take the daemon a moment (a version command each) the first time.
          info('looking for the agent backends…');
          connection.request('agents.list', {}).then(
            ({ agents, default: defaultAgent }) => {
              const goal = current().goals.get(goalId);
              if (!goal) return failed(`#${goalId} is no longer there`);
              notice(null);
              // Something else was asked meanwhile (a title, a cancel): that question stays.
              if (current().ui.prompt !== null) return;
              const picker = openAgentPicker(goal, agents, defaultAgent);
              dispatch({ kind: 'ui', action: { kind: 'prompt', prompt: { kind: 'pick-agent', picker } } });
            },
            (error: unknown) => failed(`could not list the agent backends: ${messageOf(error)}`),
          );
          return;
        }
        case 'set-agent': {
          const { goalId, agent } = command;
          // The pipeline shows the change with the daemon's goal.updated event.
          connection.request('goal.update', { id: goalId, agent }).then(
            () => info(agent === null ? `#${goalId} runs with the default agent` : `#${goalId} runs with ${agent}`),
            (error: unknown) => failed(`could not change the agent of #${goalId}: ${messageOf(error)}`),
          );
          return;
        }
      }
    },
    [connection, current, dispatch, editor],
  );
}

/**
 * The answer to a question, written in $EDITOR (it may span many lines), then sent. Another
 * terminal may have answered meanwhile: the daemon refuses the second answer, and the text written
 * here is kept in a file the notice names.
 */
function answerQuestion(
  connection: DaemonConnection,
  current: () => ViewState,
  questionId: number,
  editor: ExternalEditor,
  info: (text: string) => void,
  failed: (text: string) => void,
): void {
  const question = current().inbox.questions.get(questionId);
  if (!question) return failed(`question ${questionId} is no longer there`);
  if (question.answer) return info(`question ${questionId} was answered by ${question.answer.by}`);
  if (question.withdrawn) return info(`question ${questionId} was withdrawn: ${question.withdrawn.reason}`);
  const outcome = editor.edit({ text: answerTemplate(question), fileName: `question-${questionId}-answer.md` });
  if (outcome.kind === 'failed') return failed(outcome.message);
  const text = outcome.kind === 'edited' ? answerFromFile(outcome.text) : null;
  if (text === null) return info(`question ${questionId} is not answered: the answer was empty`);
  connection.request('inbox.answer', { id: questionId, text }).then(
    ({ question: answered }) =>
      info(`question ${questionId} answered${'goalId' in answered.from ? `: goal #${answered.from.goalId} goes back to the queue` : ''}`),
    (error: unknown) => {
      try {
        const file = path.join(mkdtempSync(path.join(tmpdir(), 'ralph-answer-')), `question-${questionId}-answer.md`);
        writeFileSync(file, text);
        failed(`your answer to question ${questionId} is kept in ${file}: ${messageOf(error)}`);
      } catch {
        failed(`could not answer question ${questionId}: ${messageOf(error)}`);
      }
    },
  );
}

function editSpec(
  connection: DaemonConnection,
  current: () => ViewState,
  goalId: number,
  editor: ExternalEditor,
  info: (text: string) => void,
  failed: (text: string) => void,
): void {
  const goal = current().goals.get(goalId);
  if (!goal) return failed(`#${goalId} is no longer there`);
  const outcome = editor.edit({ text: goal.spec, fileName: `goal-${goalId}-spec.md` });
  if (outcome.kind === 'failed') return failed(outcome.message);
  if (outcome.kind === 'unchanged') return info(`the spec of #${goalId} is unchanged`);
  connection.request('goal.update', { id: goalId, spec: outcome.text }).then(
    () => info(`saved the spec of #${goalId}`),
    (error: unknown) => {
      // The daemon refused (the goal started meanwhile…): the text is kept where the developer can
      // take it from, and the notice names the file first, so a narrow terminal does not cut it off.
      try {
        const file = path.join(mkdtempSync(path.join(tmpdir(), 'ralph-spec-')), `goal-${goalId}-spec.md`);
        writeFileSync(file, outcome.text);
        failed(`the spec of #${goalId} is kept in ${file}: could not save it: ${messageOf(error)}`);
      } catch {
        failed(
          `could not save the spec of #${goalId} (${messageOf(error)}), nor keep it in a file: it is lost unless your editor kept a copy`,
        );
      }
    },
  );
}
