/**
 * Research runs: one research agent per question, in parallel, each with its own context and tools.
 * Live progress travels as progress.* events (one token per agent); the run's state as research.updated.
 */
import { z } from 'zod';
import { CallUsage } from './usage.ts';

const Time = z.iso.datetime({ offset: true });

export const ResearchSource = z.object({
  kind: z.enum(['url', 'file']),
  /** A URL, or a repository-relative path. */
  ref: z.string(),
  title: z.string().optional(),
});
export type ResearchSource = z.infer<typeof ResearchSource>;

export const ResearchAgentStatus = z.enum(['queued', 'running', 'done', 'failed', 'cancelled']);
export type ResearchAgentStatus = z.infer<typeof ResearchAgentStatus>;

export const ResearchAgent = z.object({
  id: z.string(),
  question: z.string(),
  status: ResearchAgentStatus,
  step: z.int().nonnegative(),
  maxSteps: z.int().positive(),
  /** What it is doing now ("reading daemon/llm/models.ts", "searching the web for …"). */
  activity: z.string().optional(),
  report: z.string().optional(),
  sources: z.array(ResearchSource),
  /** Why it failed or was cancelled. */
  error: z.string().optional(),
  usage: CallUsage,
  costUsd: z.number().nonnegative().nullable(),
  startedAt: Time.optional(),
  endedAt: Time.optional(),
});
export type ResearchAgent = z.infer<typeof ResearchAgent>;

export const ResearchRun = z.object({
  id: z.string(),
  questions: z.array(z.string()),
  status: z.enum(['running', 'done', 'failed', 'cancelled']),
  agents: z.array(ResearchAgent),
  /** The one report written from every agent's report, naming what is missing. */
  consolidated: z.string().optional(),
  /** The chat session that asked for it, when one did. */
  session: z.string().optional(),
  createdAt: Time,
  endedAt: Time.optional(),
  usage: CallUsage,
  costUsd: z.number().nonnegative().nullable(),
});
export type ResearchRun = z.infer<typeof ResearchRun>;

/** One unit of long work in progress (a research agent, a goal iteration): what a progress bar draws. */
export const ProgressUnit = z.object({
  token: z.string(),
  kind: z.string(),
  title: z.string(),
  /** The unit this one belongs to (a research agent's run). */
  parent: z.string().optional(),
  done: z.int().nonnegative().optional(),
  total: z.int().positive().optional(),
  message: z.string().optional(),
  tokens: z.int().nonnegative().optional(),
  costUsd: z.number().nonnegative().nullable().optional(),
  startedAt: Time,
});
export type ProgressUnit = z.infer<typeof ProgressUnit>;
