/**
 * The reply a chat turn streams, built part by part as the agent's events come: one text part per
 * model call (the text before a tool call and the text after it stay apart), one tool part per tool
 * call. Every change goes out to the clients at once (`chat.delta`, `chat.part`). Text goes out
 * redacted: an end that may begin a secret is held back until more comes or the text part ends.
 */
import type { ChatMessage, EventEnvelope, TextPart, ToolPart } from '../../protocol/index.ts';
import type { DeltaCoalescer } from '../events/delta-coalescer.ts';
import type { ToolCall } from '../llm/types.ts';
import type { DaemonSecrets } from '../secrets/daemon-secrets.ts';
import { clip, type ToolResult } from '../tools/tool.ts';
import { messageText } from './conversation.ts';

/** A tool result kept on its part (what clients show and later turns send back to the model). */
const MAX_TOOL_RESULT_CHARS = 20_000;

type Cause = EventEnvelope['cause'];

export class TurnReply {
  private readonly reply: ChatMessage;
  private readonly session: string;
  private readonly cause: Cause;
  private readonly bus: DeltaCoalescer;
  private readonly secrets: DaemonSecrets;
  private readonly textParts = new Map<number, TextPart>();
  private readonly toolParts = new Map<string, ToolPart>();
  /** The text part being streamed, with its redacting stream. */
  private openText: { part: TextPart; stream: ReturnType<DaemonSecrets['redactStream']> } | undefined;
  /** Tools run one at a time (the agent loop awaits each), so "the call running now" is well defined. */
  private runningTool: ToolPart | undefined;
  private readonly answerSavers: { afterPart: number; save: (answer: string) => Promise<unknown> }[] = [];

  constructor(options: { reply: ChatMessage; session: string; cause: Cause; bus: DeltaCoalescer; secrets: DaemonSecrets }) {
    this.reply = options.reply;
    this.session = options.session;
    this.cause = options.cause;
    this.bus = options.bus;
    this.secrets = options.secrets;
  }

  /** Text of the model call `step`: added to that call's text part (begun on its first text). */
  addText(step: number, delta: string): void {
    let part = this.textParts.get(step);
    if (!part) {
      part = this.addPart<TextPart>({ type: 'text', text: '' });
      this.textParts.set(step, part);
    }
    if (this.openText?.part !== part) this.openText = { part, stream: this.secrets.redactStream() };
    this.publishText(part, this.openText.stream.push(delta));
  }

  /** The text part being streamed ends (a new model call, a tool call, the end of the turn): what was held back goes out. */
  endText(): void {
    if (!this.openText) return;
    this.publishText(this.openText.part, this.openText.stream.end());
    this.openText = undefined;
  }

  startTool(call: ToolCall): void {
    this.endText();
    const part = this.addPart<ToolPart>({ type: 'tool', callId: call.id, name: call.name, arguments: call.arguments, status: 'running' });
    this.runningTool = part;
    this.toolParts.set(call.id, part);
    this.publishPart(part);
  }

  endTool(call: ToolCall, result: ToolResult): void {
    this.runningTool = undefined;
    const part = this.toolParts.get(call.id);
    if (!part) return;
    part.status = result.isError ? 'error' : 'done';
    part.result = clip(result.output, MAX_TOOL_RESULT_CHARS);
    part.summary = result.summary;
    this.publishPart(part);
  }

  /** Marks the tool call running now as having started this research run. */
  showResearchRun(runId: string): void {
    if (!this.runningTool) return;
    this.runningTool.researchRun = runId;
    this.publishPart(this.runningTool);
  }

  /** `save` gets the text the reply writes after the tool call running now, once the turn ends answered. */
  whenAnswered(save: (answer: string) => Promise<unknown>): void {
    this.answerSavers.push({ afterPart: this.reply.parts.length, save });
  }

  /**
   * Hands what the reply wrote after a tool call to whoever asked for it (a research run keeps the
   * consolidated answer). A failure goes to `failed`: the reply itself is complete and stays done.
   */
  async saveAnswers(failed: (error: unknown) => void): Promise<void> {
    for (const { afterPart, save } of this.answerSavers) {
      const answer = messageText({ ...this.reply, parts: this.reply.parts.slice(afterPart) }).trim();
      if (answer === '') continue;
      try {
        await save(answer);
      } catch (error) {
        failed(error);
      }
    }
  }

  private addPart<P extends TextPart | ToolPart>(part: Omit<P, 'id'>): P {
    const added = { id: `p${this.reply.parts.length + 1}`, ...part } as P;
    this.reply.parts.push(added);
    return added;
  }

  private publishText(part: TextPart, delta: string): void {
    if (delta === '') return;
    part.text += delta;
    this.bus.publish('chat.delta', { session: this.session, messageId: this.reply.id, partId: part.id, delta }, this.cause);
  }

  private publishPart(part: ToolPart): void {
    this.bus.publish('chat.part', { session: this.session, messageId: this.reply.id, part: { ...part } }, this.cause);
  }
}
