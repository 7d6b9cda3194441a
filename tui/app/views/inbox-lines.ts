/**
 * The inbox overlay as rows: one line per question (the open ones oldest first, then those answered
 * while this terminal watched, dim, with who answered), then the picked question in full with its
 * options, or its answer. Pure: the overlay only draws them.
 */
import { describeAsker, type Question } from '../../../protocol/index.ts';
import { inboxList, type InboxView } from '../state/inbox-state.ts';
import { oneLine, truncate, wrapText, type Row } from './text.ts';

export function inboxRows(inbox: InboxView, width: number, maxListRows: number): Row[] {
  const list = inboxList(inbox);
  if (list.length === 0) return [[{ text: 'No questions: when an agent asks you something, it shows here.', style: { dim: true } }]];
  const at = Math.max(
    0,
    list.findIndex((question) => question.id === inbox.pickedId),
  );
  const start = Math.min(Math.max(0, at - maxListRows + 1), Math.max(0, list.length - maxListRows));
  const rows: Row[] = list.slice(start, start + maxListRows).map((question) => listRow(question, question.id === inbox.pickedId, width));
  const picked = list[at];
  if (picked) rows.push([], ...detailRows(picked, width));
  return rows;
}

function listRow(question: Question, picked: boolean, width: number): Row {
  const marker = picked ? '› ' : '  ';
  const head = `${marker}${question.id}  ${describeAsker(question.from)}  `;
  if (question.answer || question.withdrawn) {
    const closed = question.answer ? `answered by ${oneLine(question.answer.by)}` : 'withdrawn';
    const text = truncate(`${closed}: ${oneLine(question.question)}`, Math.max(1, width - head.length));
    return [
      { text: head, style: { dim: true, bold: picked } },
      { text, style: { dim: true } },
    ];
  }
  return [
    { text: head, style: { bold: picked, color: 'warning' } },
    { text: truncate(oneLine(question.question), Math.max(1, width - head.length)), style: { bold: picked } },
  ];
}

function detailRows(question: Question, width: number): Row[] {
  const rows: Row[] = [[{ text: `Question ${question.id} from ${describeAsker(question.from)}`, style: { bold: true } }]];
  rows.push(...wrapText(question.question, width));
  if (question.options?.length) rows.push([{ text: `options: ${question.options.map(oneLine).join(' | ')}`, style: { color: 'accent' } }]);
  if (question.answer) {
    rows.push([{ text: `answered by ${oneLine(question.answer.by)} at ${question.answer.at}:`, style: { color: 'success' } }]);
    rows.push(...wrapText(question.answer.text, width, { dim: true }));
  }
  if (question.withdrawn) rows.push([{ text: `withdrawn: ${oneLine(question.withdrawn.reason)}`, style: { dim: true } }]);
  return rows;
}
