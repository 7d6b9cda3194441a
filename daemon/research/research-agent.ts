/**
 * One research agent: the agent loop (daemon/agent/agent-loop.ts) with a fresh context, a focused
 * researcher's instructions, read-only file tools, fetch_url and (on the Responses API) the hosted
 * web search, until it answers its one question. What it does is told through `listener`; what it
 * found (sources, partial text) stays readable even when it fails, so partial findings are kept.
 */
import path from 'node:path';
import type { ResearchSource } from '../../protocol/index.ts';
import { runAgent, type AgentEvent, type AgentOptions } from '../agent/agent-loop.ts';
import { AgentRun, type AgentDone, type PricedCall } from '../agent/agent-run.ts';
import type { ModelTable } from '../llm/models.ts';
import type { Provider, ReasoningEffort } from '../llm/types.ts';
import { fetchUrlTool, type FetchUrlOptions } from '../tools/fetch-url.ts';
import type { Redact } from '../secrets/redactor.ts';
import { readOnlyFileTools } from '../tools/file-tools.ts';
import type { Tool, ToolResult } from '../tools/tool.ts';
import { resolveWorkspacePath } from '../tools/workspace-path.ts';
import { BUDGET_SPENT, questionMessage, researcherInstructions } from './prompts.ts';

export interface ResearchAgentListener {
  /** A model call begins (steps count from 1 to maxSteps). */
  step(step: number): void;
  /** What it does now: "reading daemon/llm/models.ts", "searching the web for …". */
  activity(what: string): void;
  /** A model call ended: priced, and with what the agent spent so far (`spent`: its totals, this call included). */
  usage(call: PricedCall, spent: AgentRun): void;
  /** A model call waits before its next try (rate limit, server error). */
  wait(wait: Extract<AgentEvent, { type: 'wait' }>): void;
}

export interface ResearchAgentInput {
  question: string;
  provider: Provider;
  model: string;
  reasoningEffort?: ReasoningEffort;
  /** The prices of the models, for each call's cost. */
  models: Pick<ModelTable, 'cost'>;
  /** The repository the file tools read (a real path). */
  repoRoot: string;
  maxSteps: number;
  /** Offer the provider's hosted web search (the Responses API has one). */
  webSearch: boolean;
  /** fetch_url's settings (tests allow their local pages here). */
  fetch?: Omit<FetchUrlOptions, 'onFetched'>;
  signal: AbortSignal;
  listener: ResearchAgentListener;
  today?: string;
  /** The daemon's secrets come out of every tool result (see AgentOptions.redact). */
  redact?: Redact;
  /** The file tools may read files git ignores (config `secrets.readIgnoredFiles`). Default false. */
  readIgnoredFiles?: boolean;
}

export class ResearchAgentRun {
  private readonly input: ResearchAgentInput;
  private readonly found = new Map<string, ResearchSource>();
  /** The text of each model call, by step: the partial findings if the agent does not finish. */
  private readonly texts = new Map<number, string>();
  /** What its model calls used and cost, across its loops. */
  private readonly spent: AgentRun;

  constructor(input: ResearchAgentInput) {
    this.input = input;
    this.spent = new AgentRun(input.models);
  }

  /** Where its facts came from: files read, pages fetched, citations of the web search. */
  get sources(): ResearchSource[] {
    return [...this.found.values()];
  }

  /** What it wrote so far, for an agent that failed or timed out; undefined when nothing. */
  partialReport(): string | undefined {
    const text = [...this.texts.values()]
      .map((part) => part.trim())
      .filter(Boolean)
      .join('\n\n');
    return text || undefined;
  }

  /** Runs until the report is written; returns it. Throws ProviderError when a call fails (kind `aborted` once the signal fires). */
  async run(): Promise<string> {
    const { input } = this;
    const fetchTool = fetchUrlTool({
      ...input.fetch,
      onFetched: (page) => this.addSource({ kind: 'url', ref: page.finalUrl, ...(page.title ? { title: page.title } : {}) }),
    });
    const tools: Tool[] = [...readOnlyFileTools(), fetchTool];
    // The last step is kept for the report: an agent whose budget runs out mid-research still reports.
    const withTools = input.maxSteps > 1;
    const options: AgentOptions = {
      provider: input.provider,
      request: {
        model: input.model,
        instructions: researcherInstructions({
          repoName: path.basename(input.repoRoot),
          maxSteps: input.maxSteps,
          webSearch: input.webSearch && withTools,
          today: input.today ?? new Date().toISOString().slice(0, 10),
        }),
        ...(input.webSearch && withTools ? { webSearch: true } : {}),
        ...(input.reasoningEffort ? { reasoningEffort: input.reasoningEffort } : {}),
      },
      items: [{ role: 'user', content: questionMessage(input.question) }],
      tools: withTools ? tools : [],
      toolContext: {
        root: input.repoRoot,
        onActivity: (what) => input.listener.activity(what),
        readIgnoredFiles: input.readIgnoredFiles ?? false,
      },
      maxSteps: withTools ? input.maxSteps - 1 : 1,
      signal: input.signal,
      ...(input.redact ? { redact: input.redact } : {}),
    };
    const first = await this.follow(runAgent(options), 0);
    if (first.reason === 'cut') return `${first.text}\n\n(This report was cut short by the model's output limit.)`;
    if (first.reason !== 'max-steps') return first.text;

    const last = await this.follow(
      runAgent({
        ...options,
        request: { ...options.request, webSearch: false },
        items: [...first.items, { role: 'user', content: BUDGET_SPENT }],
        tools: [],
        maxSteps: 1,
      }),
      options.maxSteps,
    );
    return last.text;
  }

  /** Passes a loop's events on to the listener; returns its `done`. Steps are numbered from `offset` + 1. */
  private follow(loop: AsyncGenerator<AgentEvent>, offset: number): Promise<AgentDone> {
    const { listener } = this.input;
    return this.spent.follow(loop, {
      step: (event) => {
        listener.step(offset + event.step);
        listener.activity(event.step === 1 && offset === 0 ? 'starting' : 'thinking');
      },
      'text.delta': (event) => {
        const step = offset + event.step;
        const before = this.texts.get(step);
        if (before === undefined) listener.activity('writing');
        this.texts.set(step, (before ?? '') + event.delta);
      },
      'web.search': (event) => {
        if (event.status === 'searching') listener.activity(event.query ? `searching the web for ${event.query}` : 'searching the web');
      },
      citation: (event) =>
        this.addSource({ kind: 'url', ref: event.citation.url, ...(event.citation.title ? { title: event.citation.title } : {}) }),
      wait: (event) => listener.wait(event),
      usage: (call) => listener.usage(call, this.spent),
      // The tool names what it does once its arguments are checked (onActivity); this covers the moment before.
      'tool.start': (event) => listener.activity(`calling ${event.call.name}`),
      'tool.end': (event) => this.noteFileSource(event.call.name, event.call.arguments, event.result),
    });
  }

  /** A file the agent read is a source (by its repository-relative path). */
  private async noteFileSource(tool: string, rawArguments: string, result: ToolResult): Promise<void> {
    if (tool !== 'read_file' || result.isError) return;
    try {
      const args = JSON.parse(rawArguments) as { path?: unknown };
      if (typeof args.path !== 'string') return;
      const target = await resolveWorkspacePath(this.input.repoRoot, args.path);
      this.addSource({ kind: 'file', ref: target.display });
    } catch {
      // Unreadable arguments: the tool refused them too, so there is no source.
    }
  }

  private addSource(source: ResearchSource): void {
    const key = `${source.kind} ${source.ref}`;
    const known = this.found.get(key);
    if (!known || (!known.title && source.title)) this.found.set(key, source);
  }
}
