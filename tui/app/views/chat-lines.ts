/**
 * The chat as rows of styled text at a width: user messages, replies (markdown), tool calls (one
 * row each), research runs (a bar per agent while they run, one summary row once ended). Pure.
 *
 * A finished message is laid out once per width: its rows are cached by the message object (the
 * reducers keep an unchanged message's object), so a long conversation costs nothing per frame.
 */
import type { ChatMessage, ToolPart } from '../../../protocol/index.ts';
import type { ChatView } from '../state/chat-state.ts';
import { researchRunIdFor, researchView, type AgentView, type ProgressView, type ResearchView } from '../state/progress-state.ts';
import { formatUsage, progressBar } from './format.ts';
import { markdownRows } from './markdown.ts';
import { displayWidth, oneLine, truncate, truncateRow, wrapText, type Row, type Segment, type Style } from './text.ts';

export interface ChatRowsOptions {
  researchExpanded: boolean;
  /** The keys that expand research runs, as shown ("Ctrl+O"). */
  researchKey: string;
}

const INDENT = '  ';
const DIM: Style = { dim: true };
const BAR_WIDTH = 10;

/** Rows and a stable key for each (message id and position in it), so a row that stays is not drawn again. */
export interface KeyedRows {
  rows: Row[];
  keys: string[];
}

/** Every row of the session, oldest first; a blank row between messages. */
export function chatRows(chat: ChatView, progress: ProgressView, width: number, options: ChatRowsOptions): KeyedRows {
  const rows: Row[] = [];
  const keys: string[] = [];
  for (const message of chat.messages) {
    if (rows.length > 0) {
      rows.push([]);
      keys.push(`${message.id}:gap`);
    }
    messageRows(message, progress, width, options).forEach((row, i) => {
      rows.push(row);
      keys.push(`${message.id}:${i}`);
    });
  }
  return { rows, keys };
}

interface CacheEntry {
  width: number;
  expanded: boolean;
  /** The research views drawn in the message: its rows are good while these are the same. */
  research: readonly (ResearchView | null)[];
  rows: Row[];
}

const cache = new WeakMap<ChatMessage, CacheEntry>();

export function messageRows(message: ChatMessage, progress: ProgressView, width: number, options: ChatRowsOptions): Row[] {
  const research = message.parts.map((part) => (isResearchPart(part) ? researchFor(part, message, progress) : null));
  const cached = cache.get(message);
  if (cached && cached.width === width && cached.expanded === options.researchExpanded && sameResearch(cached.research, research))
    return cached.rows;
  const rows = layoutMessage(message, research, width, options);
  // Only settled content is kept: a streaming message changes with the next delta anyway.
  if (message.status !== 'queued' && message.status !== 'streaming')
    cache.set(message, { width, expanded: options.researchExpanded, research, rows });
  return rows;
}

function sameResearch(a: readonly (ResearchView | null)[], b: readonly (ResearchView | null)[]): boolean {
  return a.length === b.length && a.every((view, i) => researchKey(view) === researchKey(b[i] ?? null));
}

/** A research view's drawn content as a string: two views that draw the same compare equal. */
function researchKey(view: ResearchView | null): string {
  return view === null ? '' : JSON.stringify(view);
}

function layoutMessage(message: ChatMessage, research: readonly (ResearchView | null)[], width: number, options: ChatRowsOptions): Row[] {
  if (message.role === 'user') {
    const text = message.parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
    const prefix: Segment = { text: '› ', style: { color: 'accent', bold: true } };
    return wrapText(text, width - 2).map((row, i) => [i === 0 ? prefix : { text: INDENT }, ...row]);
  }
  const rows: Row[] = [];
  message.parts.forEach((part, i) => {
    if (part.type === 'text') {
      if (part.text.trim() === '') return;
      rows.push(
        ...markdownRows(part.text, Math.max(1, width - INDENT.length)).map((row) => (row.length === 0 ? row : [{ text: INDENT }, ...row])),
      );
      return;
    }
    const view = research[i] ?? null;
    rows.push(...(isResearchPart(part) && view ? researchRows(view, width, options) : [toolRow(part, width)]));
  });
  rows.push(...statusRows(message, width));
  return rows;
}

function statusRows(message: ChatMessage, width: number): Row[] {
  switch (message.status) {
    case 'queued':
      return [[{ text: `${INDENT}queued: answered after the replies before it`, style: DIM }]];
    case 'streaming':
      return [];
    case 'error':
      return wrapText(`✗ ${message.error ?? 'the reply failed'}`, width - INDENT.length, { color: 'error' }).map((row) => [
        { text: INDENT },
        ...row,
      ]);
    case 'interrupted':
      return [[{ text: `${INDENT}(interrupted)`, style: DIM }]];
    case 'done': {
      if (!message.usage) return [];
      const tokens = message.usage.inputTokens + message.usage.outputTokens;
      const usage = formatUsage(tokens, message.costUsd);
      const line = [message.model, usage].filter(Boolean).join(' · ');
      return line ? [truncateRow([{ text: `${INDENT}${line}`, style: DIM }], width)] : [];
    }
  }
}

// ---- tool calls ------------------------------------------------------------------------------

function isResearchPart(part: ChatMessage['parts'][number]): part is ToolPart {
  return part.type === 'tool' && part.name === 'research';
}

function researchFor(part: ToolPart, message: ChatMessage, progress: ProgressView): ResearchView | null {
  const runId = researchRunIdFor(progress, part, message.session);
  return runId === null ? null : researchView(progress, runId);
}

/** `✓ read_file daemon/llm/models.ts → 120 lines`: one row, cut to the width. */
export function toolRow(part: ToolPart, width: number): Row {
  const icon: Segment =
    part.status === 'running'
      ? { text: '⚙ ', style: DIM }
      : part.status === 'done'
        ? { text: '✓ ', style: { color: 'success' } }
        : { text: '✗ ', style: { color: 'error' } };
  const args = summarizeArguments(part.arguments);
  const said = part.summary ?? part.result;
  const result = said ? oneLine(said) : part.status === 'running' ? '…' : '';
  const row: Segment[] = [{ text: INDENT }, icon, { text: oneLine(part.name), style: { bold: true } }];
  if (args) row.push({ text: ` ${args}` });
  if (result) row.push({ text: ` → ${result}`, style: part.status === 'error' ? { color: 'error' } : DIM });
  return truncateRow(row, width);
}

/** A tool's JSON arguments, short: the values, not the braces (`{"path":"a.ts"}` → `a.ts`). */
export function summarizeArguments(json: string): string {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return oneLine(json);
  }
  const flat = (item: unknown): string =>
    Array.isArray(item)
      ? item.map(flat).join(', ')
      : item !== null && typeof item === 'object'
        ? Object.values(item).map(flat).filter(Boolean).join(' ')
        : item === undefined || item === null
          ? ''
          : String(item);
  return oneLine(flat(value));
}

// ---- research runs ---------------------------------------------------------------------------

const AGENT_ICONS: Record<AgentView['status'], Segment> = {
  queued: { text: '· ', style: DIM },
  running: { text: '▸ ', style: { color: 'accent' } },
  done: { text: '✓ ', style: { color: 'success' } },
  failed: { text: '✗ ', style: { color: 'error' } },
  cancelled: { text: '⊘ ', style: { color: 'warning' } },
};

/** While it runs (or expanded): a header and one bar per agent. Once ended: one summary row. */
export function researchRows(view: ResearchView, width: number, options: ChatRowsOptions): Row[] {
  const running = view.status === 'running';
  if (!running && !options.researchExpanded) return [summaryRow(view, width, options.researchKey)];
  const header: Segment[] = [{ text: INDENT }, { text: '◆ ', style: { color: 'accent' } }, { text: 'Research', style: { bold: true } }];
  const usage = formatUsage(view.tokens, view.costUsd);
  header.push({ text: ` · ${view.agents.length} agent${view.agents.length === 1 ? '' : 's'}${usage ? ` · ${usage}` : ''}`, style: DIM });
  if (!running) header.push({ text: ` · ${view.status} · ${options.researchKey} collapses`, style: DIM });
  return [truncateRow(header, width), ...view.agents.map((agent) => agentRow(agent, width))];
}

/** `▸ ███░░░░░░░  3/20  What changed in …  reading daemon/llm/models.ts` */
function agentRow(agent: AgentView, width: number): Row {
  const steps = agent.maxSteps ? `${agent.step}/${agent.maxSteps}` : String(agent.step);
  const head: Segment[] = [
    { text: `${INDENT}  ` },
    AGENT_ICONS[agent.status],
    {
      text: progressBar(agent.status === 'done' && agent.maxSteps ? agent.maxSteps : agent.step, agent.maxSteps, BAR_WIDTH),
      style: { color: agent.status === 'failed' ? 'error' : 'accent' },
    },
    { text: ` ${steps.padStart(5)}  ` },
  ];
  const room = Math.max(8, width - displayWidth(head.map((segment) => segment.text).join('')));
  const question = oneLine(agent.question);
  const activity = agent.activity
    ? oneLine(agent.activity)
    : agent.status === 'done'
      ? `${agent.sources} source${agent.sources === 1 ? '' : 's'}`
      : '';
  // The question gets at most 60% of what is left when there is an activity to show beside it.
  const questionWidth = activity ? Math.min(displayWidth(question), Math.max(8, Math.floor(room * 0.6))) : room;
  const row: Segment[] = [...head, { text: truncate(question, questionWidth) }];
  if (activity) row.push({ text: `  ${activity}`, style: agent.status === 'failed' ? { color: 'error' } : DIM });
  return truncateRow(row, width);
}

/** `✓ Research done: 3 questions, 2 answered, 1 failed · Ctrl+O details · 45k tok · $0.05` */
function summaryRow(view: ResearchView, width: number, key: string): Row {
  const count = (status: AgentView['status']) => view.agents.filter((agent) => agent.status === status).length;
  const parts = [`${view.agents.length} question${view.agents.length === 1 ? '' : 's'}`, `${count('done')} answered`];
  if (count('failed') > 0) parts.push(`${count('failed')} failed`);
  if (count('cancelled') > 0) parts.push(`${count('cancelled')} cancelled`);
  const icon: Segment =
    view.status === 'done'
      ? { text: '✓ ', style: { color: 'success' } }
      : { text: '✗ ', style: { color: view.status === 'failed' ? 'error' : 'warning' } };
  const usage = formatUsage(view.tokens, view.costUsd);
  return truncateRow(
    [
      { text: INDENT },
      icon,
      { text: `Research ${view.status}`, style: { bold: true } },
      { text: `: ${parts.join(', ')}` },
      // The key before the usage: a narrow pane cuts the usage, never the way to the details.
      { text: ` · ${key} details${usage ? ` · ${usage}` : ''}`, style: DIM },
    ],
    width,
  );
}

// ---- the pane's frame ------------------------------------------------------------------------

export const PROVIDER_HINT =
  'No model provider is configured, so the chat cannot answer yet: give the daemon OPENAI_API_KEY ' +
  '(or OPENAI_BASE_URL and RALPH_MODEL for another server) and restart it (ralph daemon stop), ' +
  'or set the provider in ralph.config.ts. Goals, logs and the pipeline work without it.';

export const EMPTY_CHAT_HINT =
  'Ask about the repository, send research agents out, agree on a goal. Enter sends; /new starts a new session.';

export interface ChatFrame {
  /** The provider hint, above the messages (empty when a provider is configured). */
  hint: Row[];
  /** The rows of the conversation shown now, and their keys. */
  rows: Row[];
  keys: string[];
  /** Rows hidden below (the view is scrolled back). */
  below: number;
  /** How far the view can scroll back. */
  maxScroll: number;
  /** Rows the conversation gets. */
  contentRows: number;
  /** The draft the agent proposed, with the key that queues it. */
  proposal: Row | null;
}

export interface ChatFrameInput {
  chat: ChatView;
  progress: ProgressView;
  scroll: number;
  proposal: { id: number; title: string } | null;
  proposalKey: string;
}

/** Rows of the pane that are not the conversation: the title, the status line, the input line. */
const FIXED_ROWS = 3;

export function chatFrame(
  { chat, progress, scroll, proposal, proposalKey }: ChatFrameInput,
  width: number,
  height: number,
  options: ChatRowsOptions,
): ChatFrame {
  const hint = chat.providerConfigured ? [] : wrapText(PROVIDER_HINT, width, { color: 'warning' });
  const proposalRow: Row | null = proposal
    ? truncateRow(
        [
          { text: '◇ ', style: { color: 'accent' } },
          { text: `Proposed goal #${proposal.id} ` },
          { text: oneLine(proposal.title), style: { bold: true } },
          { text: ` · ${proposalKey} queues it`, style: DIM },
        ],
        width,
      )
    : null;
  // The hint gives way to the conversation on a short pane, but keeps at least two rows.
  const hintRows = Math.min(hint.length, Math.max(2, height - FIXED_ROWS - (proposalRow ? 1 : 0) - 3));
  const shownHint =
    hint.length > hintRows ? [...hint.slice(0, hintRows - 1), truncateRow([...(hint[hintRows - 1] ?? []), { text: ' …' }], width)] : hint;
  const contentRows = Math.max(1, height - FIXED_ROWS - shownHint.length - (proposalRow ? 1 : 0));
  const welcome = chat.messages.length === 0 && chat.providerConfigured ? wrapText(EMPTY_CHAT_HINT, width, DIM) : null;
  const all: KeyedRows = welcome
    ? { rows: welcome, keys: welcome.map((_, i) => `welcome:${i}`) }
    : chatRows(chat, progress, width, options);
  const maxScroll = Math.max(0, all.rows.length - contentRows);
  const offset = Math.min(scroll, maxScroll);
  const end = all.rows.length - offset;
  const start = Math.max(0, end - contentRows);
  const rows = all.rows.slice(start, end);
  const keys = all.keys.slice(start, end);
  if (offset > 0 && rows.length > 0) {
    rows[rows.length - 1] = [{ text: `  ↓ ${offset} more row${offset === 1 ? '' : 's'}`, style: DIM }];
    keys[keys.length - 1] = 'more-below';
  }
  return { hint: shownHint, rows, keys, below: offset, maxScroll, contentRows, proposal: proposalRow };
}
