/**
 * Which of the daemon's events a person should hear about, and in what words: a goal that became
 * done, stuck or waiting (the `goal.updated` of its transition) and a goal that landed (the
 * `landed` line of its log). Pure: the service (notify-service.ts) subscribes and delivers.
 */
import {
  clipUnits,
  NOTIFICATION_BODY_MAX,
  NOTIFICATION_TITLE_MAX,
  oneLine,
  type EventEnvelope,
  type Notification,
  type NotificationKind,
} from '../../protocol/index.ts';

/** A notification as raised, before the config says how terminals alert (`bell`, `desktop`). */
export type NotificationContent = Omit<Notification, 'bell' | 'desktop'>;

/**
 * The goal states a person is told about when a goal enters them: the kind is the state's name. A
 * state of that name that the goal model does not have (yet) is simply never entered.
 */
const ANNOUNCED_STATES: ReadonlySet<string> = new Set<NotificationKind>(['done', 'stuck', 'waiting']);

/** The notifications `event` raises (none for most events). `goalTitle` finds a goal's title by its id. */
export function notificationsOf(event: EventEnvelope, goalTitle: (id: number) => string | undefined): NotificationContent[] {
  if (event.type === 'goal.updated') {
    const { goal, transition } = event.data;
    if (!transition || transition.to === transition.from || !ANNOUNCED_STATES.has(transition.to)) return [];
    return [notification(transition.to as NotificationKind, goal.id, goal.title, transition.note ?? '')];
  }
  if (event.type === 'log.appended') {
    const { goalId, entries } = event.data;
    return entries
      .filter((entry) => entry.kind === 'landed')
      .map((entry) => notification('landed', goalId, goalTitle(goalId) ?? '', entry.text));
  }
  return [];
}

/** `#3 done: Fix the parser`, and what happened, each on one line and clipped to the protocol's bounds. */
export function notification(kind: NotificationKind, goalId: number, goalTitle: string, body: string): NotificationContent {
  const title = oneLine(goalTitle);
  return {
    kind,
    goalId,
    title: clip(`#${goalId} ${kind}${title ? `: ${title}` : ''}`, NOTIFICATION_TITLE_MAX),
    body: clip(oneLine(body), NOTIFICATION_BODY_MAX),
  };
}

function clip(text: string, max: number): string {
  return text.length > max ? `${clipUnits(text, max - 1)}…` : text;
}
