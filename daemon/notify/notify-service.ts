/**
 * Notifications: when a goal becomes done, stuck or waiting, or lands (notifications.ts reads
 * them off the daemon's event stream), or when a budget stops work (`raise`), the daemon publishes
 * one `notification` event, and
 *
 * - every attached TUI rings its bell and asks its terminal for a desktop notification (the event
 *   carries the config's `notify.bell` and `notify.desktop`, so a TUI needs nothing else);
 * - when no TUI is attached, `notify-send` shows it on the desktop, where it is on PATH;
 * - the config's `notify.command` hook gets it as JSON on stdin (ntfy, Slack …).
 *
 * A kind switched off (`notify.kinds.landed: false`) raises nothing at all. The programs run
 * directly (argv, no shell), with the environment rules of the agent's commands (no secrets), one
 * at a time per program and within a timeout; a failure is a line in the daemon's log, never more.
 */
import { TUI_CLIENT_NAME, type EventEnvelope, type Notification } from '../../protocol/index.ts';
import { findExecutable } from '../agent/external/detect.ts';
import type { RalphConfig } from '../config/schema.ts';
import type { EventBus } from '../events/bus.ts';
import type { Log } from '../log.ts';
import type { DaemonSecrets } from '../secrets/daemon-secrets.ts';
import { commandEnvironment } from '../secrets/environment.ts';
import { KeyedQueue } from '../store/keyed-queue.ts';
import { notificationsOf, type NotificationContent } from './notifications.ts';
import { runNotifier, type NotifierRun } from './run-notifier.ts';

/** How long `notify-send` or the hook may take before it is killed (a notification that late is no use). */
export const NOTIFY_TIMEOUT_MS = 10_000;

/** The desktop's own notifier, run when no terminal is attached to show one. */
export const NOTIFY_SEND = 'notify-send';

/** The desktop notifier the daemon's options name, else none with RALPH_NOTIFY_SEND=off, else `notify-send`. */
export function desktopNotifier(option: string | null | undefined, env: NodeJS.ProcessEnv): string | null {
  if (option !== undefined) return option;
  return env.RALPH_NOTIFY_SEND?.trim().toLowerCase() === 'off' ? null : NOTIFY_SEND;
}

/** What `notify.command` reads on stdin: the notification, when, and for which repository. */
export interface NotifyHookInput {
  type: 'notification';
  kind: Notification['kind'];
  goalId?: number;
  title: string;
  body: string;
  time: string;
  repo: string;
}

export interface NotifyServiceOptions {
  repoRoot: string;
  bus: EventBus;
  /** A goal's title by its id (an event that names only the goal: a landing's log line). */
  goalTitle: (id: number) => string | undefined;
  /** The config's `notify` section in force now. */
  settings: () => RalphConfig['notify'];
  /** The program run for a desktop notification while no TUI is attached, found on PATH: default `notify-send`; null, none. */
  desktopNotifier?: string | null;
  /** The environment the programs start from (its PATH finds them), its secrets taken out. */
  env: NodeJS.ProcessEnv;
  secrets: DaemonSecrets;
  log: Log;
  timeoutMs?: number;
}

export class NotifyService {
  private readonly options: NotifyServiceOptions;
  /** One delivery at a time per program, in the order raised (a hook posting to a chat keeps the order). */
  private readonly queue = new KeyedQueue<'command' | 'desktop'>();
  private readonly running = new Set<NotifierRun>();
  /** Whether a TUI is attached now (from `clients.changed`): it alerts, so `notify-send` need not. */
  private tuiAttached = false;
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(options: NotifyServiceOptions) {
    this.options = options;
  }

  start(): void {
    if (this.unsubscribe || this.closed) return;
    this.unsubscribe = this.options.bus.subscribe(({ envelope }) => this.take(envelope));
  }

  /**
   * Raises a notification (unless its kind is switched off): published to every client, then
   * delivered by the desktop's notifier and the hook. Not inside another event's publish: the
   * event that caused it reaches every client first.
   */
  raise(content: NotificationContent): void {
    if (this.closed) return;
    queueMicrotask(() => {
      const settings = this.options.settings();
      if (this.closed || !settings.kinds[content.kind]) return;
      const published = this.options.bus.publish('notification', { ...content, bell: settings.bell, desktop: settings.desktop });
      // The published data: redacted like every event.
      if (published.envelope.type === 'notification') this.deliver(published.envelope.data, published.envelope.time, settings);
    });
  }

  /** Stops taking events and kills the programs still running. */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    for (const run of this.running) run.kill();
    await this.queue.idle();
  }

  private take(envelope: EventEnvelope): void {
    if (envelope.type === 'clients.changed') {
      this.tuiAttached = envelope.data.clients.some((client) => client.name === TUI_CLIENT_NAME);
      return;
    }
    for (const content of notificationsOf(envelope, this.options.goalTitle)) this.raise(content);
  }

  private deliver(notification: Notification, time: string, settings: RalphConfig['notify']): void {
    const { command } = settings;
    if (command) {
      const input: NotifyHookInput = {
        type: 'notification',
        kind: notification.kind,
        ...(notification.goalId === undefined ? {} : { goalId: notification.goalId }),
        title: notification.title,
        body: notification.body,
        time,
        repo: this.options.repoRoot,
      };
      const [file, ...args] = command as [string, ...string[]];
      void this.queue.run('command', () => this.run('notify.command', file, args, `${JSON.stringify(input)}\n`));
    }
    if (notification.desktop && !this.tuiAttached && this.options.desktopNotifier !== null) {
      void this.queue.run('desktop', () => this.notifySend(notification));
    }
  }

  /** `notify-send TITLE BODY` where it is on PATH; nothing where it is not (a server without a desktop). */
  private async notifySend(notification: Notification): Promise<void> {
    const name = this.options.desktopNotifier ?? NOTIFY_SEND;
    const executable = await findExecutable(name, { cwd: this.options.repoRoot, env: this.options.env });
    if (!executable || this.closed) return;
    await this.run(name, executable, ['--app-name=Ralph', positional(notification.title), positional(notification.body)]);
  }

  private async run(name: string, file: string, args: readonly string[], input?: string): Promise<void> {
    if (this.closed) return;
    const { secrets } = this.options;
    const env = commandEnvironment(this.options.env, secrets.values(), secrets.envRules());
    const run = runNotifier(file, args, { cwd: this.options.repoRoot, env, timeoutMs: this.options.timeoutMs ?? NOTIFY_TIMEOUT_MS, input });
    this.running.add(run);
    const outcome = await run.done;
    this.running.delete(run);
    if (!outcome.ok) this.options.log(`notify: ${name} failed: ${outcome.reason}`);
  }
}

/** An argument that must not be read as an option: a leading `-` gets a space before it. */
function positional(text: string): string {
  return text.startsWith('-') ? ` ${text}` : text;
}
