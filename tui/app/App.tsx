/**
 * The TUI: the goal pipeline, the chat and the selected goal's live log — side by side on a wide
 * terminal, one at a time (Tab) on a small one — over a status bar and the keys.
 *
 * State lives in one store (state/view-state.ts, pure reducers) fed by hooks, one per concern: the
 * daemon's events (useDaemonState), the reads the state asks for (useDaemonReads), the requests the
 * keys make (useCommands). Keys become intents in keys/interpret.ts. The views only draw.
 */
import { Box, Text, useApp, useInput, useStdin, useStdout } from 'ink';
import { useCallback, useMemo, useRef } from 'react';
import type { Goal } from '../../protocol/index.ts';
import type { DaemonConnection } from './connection.ts';
import { terminalEditor, type ExternalEditor } from './editor.ts';
import { useCommands } from './hooks/useCommands.ts';
import { useDaemonReads } from './hooks/useDaemonReads.ts';
import { useDaemonState } from './hooks/useDaemonState.ts';
import { useTerminalSize } from './hooks/useTerminalSize.ts';
import { hasTextField, interpretKey, type Intent, type KeyLayout } from './keys/interpret.ts';
import { buildKeymap, showKeys, type Keymap } from './keys/keymap.ts';
import { splitKeys } from './keys/split-keys.ts';
import { changedFileCount, goalGroups, invalidGoals, proposedDraft, selectedGoal, type ViewState } from './state/view-state.ts';
import { useTheme } from './theme.ts';
import { ChatPane } from './views/ChatPane.tsx';
import { chatFrame } from './views/chat-lines.ts';
import { footerText, helpRows } from './views/help-lines.ts';
import { HelpOverlay, helpMaxScroll } from './views/HelpOverlay.tsx';
import { InboxOverlay } from './views/InboxOverlay.tsx';
import { openCount } from './state/inbox-state.ts';
import { computeLayout, type Layout } from './views/layout.ts';
import { LogPane } from './views/LogPane.tsx';
import { logFrame } from './views/log-lines.ts';
import { goalDetail, goalMeta } from './views/pipeline-lines.ts';
import { PipelinePane } from './views/PipelinePane.tsx';
import { PromptLine } from './views/PromptLine.tsx';
import { StatusBar } from './views/StatusBar.tsx';
import { oneLine, plural } from './views/text.ts';

export interface AppProps {
  connection: DaemonConnection;
  /** How specs are edited (`e`); by default $EDITOR in this terminal. */
  editor?: ExternalEditor;
}

export function App({ connection, editor }: AppProps) {
  const { columns, rows } = useTerminalSize();
  const { state, current, dispatch } = useDaemonState(connection);
  // The bindings of ralph.config.ts (`tui.keys`), as the daemon sends them: a reload rebinds at once.
  const tuiKeys = state.settings.tuiKeys;
  const keymap = useMemo(() => buildKeymap(tuiKeys), [tuiKeys]);
  useDaemonReads(connection, state, dispatch);
  const run = useCommands(connection, current, dispatch, useTerminalEditor(editor));

  const notices = noticesOf(state, keymap);
  const layout = computeLayout(columns, rows, state.ui.focus, notices.length + (state.ui.prompt ? 1 : 0));
  const frames = useFrames(state, layout, keymap);
  useKeys({ current, keymap, keyLayout: frames.keyLayout, dispatch, run });

  return (
    <Box flexDirection="column" width={columns}>
      <Screen state={state} layout={layout} frames={frames} keymap={keymap} />
      {state.ui.prompt && <PromptLine prompt={state.ui.prompt} width={columns} />}
      <Notices notices={notices} />
      <StatusBar
        repo={state.repo}
        connection={state.connection}
        clients={state.clients.length}
        changedFiles={changedFileCount(state)}
        model={state.settings.chatModel}
        pipelinePaused={state.pipeline.paused}
        pipelineHold={state.pipeline.hold}
        spend={state.spend}
        openQuestions={openCount(state.inbox)}
        queue={state.queue}
        keys={footerText(keymap, state.ui.helpOpen ? 'global' : state.ui.focus)}
        width={columns}
      />
    </Box>
  );
}

/** Keys become intents (keys/interpret.ts), and intents become actions, requests or the TUI's exit. */
function useKeys({
  current,
  keymap,
  keyLayout,
  dispatch,
  run,
}: {
  current: DaemonState['current'];
  keymap: Keymap;
  keyLayout: KeyLayout;
  dispatch: DaemonState['dispatch'];
  run: ReturnType<typeof useCommands>;
}): void {
  const { exit } = useApp();
  // The numbers the keys need, as of the last frame drawn.
  const lastKeyLayout = useRef<KeyLayout>(keyLayout);
  lastKeyLayout.current = keyLayout;

  const apply = (intent: Intent) => {
    if (intent.kind === 'dispatch') dispatch(intent.action);
    else if (intent.kind === 'command') run(intent.command);
    else exit(); // the TUI goes; the daemon stays
  };
  useInput((input, key) => {
    // One read may hold several keys ("jjk", a paste): each counts, in order.
    for (const [one, oneKey] of splitKeys(input, key, () => hasTextField(current()))) {
      // The state as of the keys before this one, even if React has not drawn it yet.
      const intents = interpretKey(current(), keymap, one, oneKey, lastKeyLayout.current);
      for (const intent of intents) apply(intent);
      // Keys read together with the one that opened the editor were typed before it opened: not for the TUI.
      if (
        intents.some(
          (intent) => intent.kind === 'command' && (intent.command.kind === 'edit-spec' || intent.command.kind === 'answer-question'),
        )
      )
        return;
    }
  });
}

type DaemonState = ReturnType<typeof useDaemonState>;
type Frames = ReturnType<typeof useFrames>;

/** What fills the rows above the prompt and the status bar: the help, the panes side by side, or the one pane of a tab. */
function Screen({ state, layout, frames, keymap }: { state: ViewState; layout: Layout; frames: Frames; keymap: Keymap }) {
  if (state.ui.helpOpen) {
    return (
      <HelpOverlay
        rows={frames.help}
        scroll={state.ui.helpScroll}
        width={layout.columns}
        height={layout.paneRows}
        closeKeys={`${showKeys(keymap, 'help')}/Esc`}
      />
    );
  }
  if (state.ui.inboxOpen) {
    return (
      <InboxOverlay inbox={state.inbox} width={layout.columns} height={layout.paneRows} closeKeys={`${showKeys(keymap, 'inbox')}/Esc`} />
    );
  }
  const pipeline = pipelinePane(state, layout, keymap);
  const log = logPane(state, layout, frames, keymap);
  const chat = chatPane(state, layout, frames, keymap);
  if (layout.mode !== 'split') return <Box height={layout.paneRows}>{pipeline || chat || log}</Box>;
  return (
    <Box height={layout.paneRows}>
      <Box flexDirection="column" width={layout.leftWidth}>
        {pipeline}
        {log}
      </Box>
      <Box
        borderStyle="single"
        borderTop={false}
        borderRight={false}
        borderBottom={false}
        borderDimColor
        paddingLeft={1}
        height={layout.paneRows}
      >
        {chat}
      </Box>
    </Box>
  );
}

function pipelinePane(state: ViewState, layout: Layout, keymap: Keymap) {
  const box = layout.panes.pipeline;
  if (!box) return null;
  const selected = selectedGoal(state);
  return (
    <PipelinePane
      groups={goalGroups(state)}
      invalid={invalidGoals(state)}
      selectedId={state.selectedId}
      metaOf={(goal: Goal) => goalMeta(goal, state, state.settings.maxIterations)}
      detail={selected ? goalDetail(selected, state) : null}
      info={pipelineInfo(state)}
      emptyHint={`No goals yet. ${showKeys(keymap, 'goalNew')} adds a draft, the chat can propose one, or: ralph goal add --title "…"`}
      focused={state.ui.focus === 'pipeline'}
      tabs={layout.mode === 'tabs'}
      width={box.width}
      height={box.height}
    />
  );
}

function logPane(state: ViewState, layout: Layout, frames: Frames, keymap: Keymap) {
  const box = layout.panes.log;
  if (!box || !frames.log) return null;
  return (
    <LogPane
      goal={selectedGoal(state)}
      frame={frames.log}
      focused={state.ui.focus === 'log'}
      tabs={layout.mode === 'tabs'}
      width={box.width}
      height={box.height}
      nextMatchKey={showKeys(keymap, 'logNextMatch')}
    />
  );
}

function chatPane(state: ViewState, layout: Layout, frames: Frames, keymap: Keymap) {
  const box = layout.panes.chat;
  if (!box || !frames.chat) return null;
  return (
    <ChatPane
      chat={state.chat}
      frame={frames.chat}
      input={state.ui.chatInput}
      focused={state.ui.focus === 'chat'}
      tabs={layout.mode === 'tabs'}
      width={box.width}
      height={box.height}
      interruptKey={showKeys(keymap, 'chatInterrupt')}
      focusKey={showKeys(keymap, 'nextPane')}
    />
  );
}

/** The frames of the panes that scroll, laid out once per render, and the numbers the keys need from them. */
function useFrames(state: ViewState, layout: Layout, keymap: Keymap) {
  const chatBox = layout.panes.chat;
  const logBox = layout.panes.log;
  const draft = proposedDraft(state);
  const chat = chatBox
    ? chatFrame(
        {
          chat: state.chat,
          progress: state.progress,
          scroll: state.ui.chatScroll,
          proposal: draft ? { id: draft.id, title: draft.title } : null,
          proposalKey: showKeys(keymap, 'chatQueueDraft'),
        },
        chatBox.width,
        chatBox.height,
        { researchExpanded: state.ui.researchExpanded, researchKey: showKeys(keymap, 'chatResearch') },
      )
    : null;
  const log = logBox ? logFrame(state.log, logBox.width, logBox.height) : null;
  const help = useMemo(() => helpRows(keymap, layout.columns), [keymap, layout.columns]);
  const keyLayout: KeyLayout = {
    logRows: log?.contentRows ?? Math.max(1, layout.paneRows - 1),
    chatRows: chat?.contentRows ?? Math.max(1, layout.paneRows - 3),
    chatMaxScroll: chat?.maxScroll ?? 0,
    helpMaxScroll: helpMaxScroll(help.length, layout.paneRows),
  };
  return { chat, log, help, keyLayout };
}

/** Opens $EDITOR in this terminal: raw mode off while it runs, the screen drawn afresh after. */
function useTerminalEditor(editor: ExternalEditor | undefined): ExternalEditor {
  const { stdin: input, isRawModeSupported } = useStdin();
  // The terminal itself, not Ink's counted setRawMode: the editor needs raw mode off whoever asked for it.
  const stdin = input as NodeJS.ReadStream;
  const { write } = useStdout();
  const resume = useCallback(() => {
    if (isRawModeSupported) stdin.setRawMode(true);
    // Clear the screen and home the cursor: Ink draws its frame again on a clean screen.
    write('\u001b[2J\u001b[H');
  }, [stdin, isRawModeSupported, write]);
  return useMemo(
    () =>
      editor ??
      terminalEditor({
        suspend: () => {
          if (isRawModeSupported) stdin.setRawMode(false);
        },
        resume,
      }),
    [editor, stdin, isRawModeSupported, resume],
  );
}

function pipelineInfo(state: ViewState): string {
  const running = state.pipeline.running.length;
  const parts = [plural(state.goals.size, 'goal')];
  if (running > 0) parts.push(`${running} running`);
  if (state.pipeline.paused) parts.push('paused');
  return parts.join(' · ');
}

interface NoticeLine {
  key: string;
  tone: 'error' | 'warning' | 'info';
  text: string;
}

/** One line each, under the panes: what went wrong on the connection, in the config, in the last request. */
export function noticesOf(state: ViewState, keymap: Keymap): NoticeLine[] {
  const lines: NoticeLine[] = [];
  if (state.connectionError) lines.push({ key: 'connection', tone: 'error', text: state.connectionError });
  if (state.daemonStopping !== null)
    lines.push({ key: 'stopping', tone: 'error', text: `the daemon is stopping: ${state.daemonStopping}` });
  if (state.configError)
    lines.push({ key: 'config', tone: 'warning', text: `ralph.config.ts: ${state.configError} (the last good settings stay in force)` });
  if (keymap.problems.length > 0) {
    const more = keymap.problems.length > 1 ? ` (and ${keymap.problems.length - 1} more)` : '';
    lines.push({ key: 'keys', tone: 'warning', text: `${keymap.problems[0]}${more}` });
  }
  if (state.ui.notice) lines.push({ key: 'notice', tone: state.ui.notice.tone, text: state.ui.notice.text });
  return lines;
}

function Notices({ notices }: { notices: readonly NoticeLine[] }) {
  const theme = useTheme();
  return (
    <>
      {notices.map((notice) => (
        <Text key={notice.key} color={notice.tone === 'info' ? undefined : theme[notice.tone]} wrap="truncate-end">
          {notice.tone === 'info' ? '• ' : notice.tone === 'warning' ? '⚠ ' : '✗ '}
          {oneLine(notice.text)}
        </Text>
      ))}
    </>
  );
}
