/** Numbers as the TUI shows them: short, and never invented (an unknown cost is left out, tokens stay). */

/** 950 → "950", 12_345 → "12.3k", 2_500_000 → "2.5M". */
export function shortCount(count: number): string {
  if (count < 1000) return String(count);
  if (count < 1_000_000) return `${trimZero((count / 1000).toFixed(count < 10_000 ? 1 : 0))}k`;
  return `${trimZero((count / 1_000_000).toFixed(1))}M`;
}

function trimZero(text: string): string {
  return text.replace(/\.0$/, '');
}

/** "$0.12", "$0.004", "$12"; null when unknown (prices not published). */
export function formatCost(usd: number | null | undefined): string | null {
  if (usd === null || usd === undefined) return null;
  if (usd === 0) return '$0';
  if (usd < 0.01) return `$${usd.toFixed(3)}`;
  if (usd < 100) return `$${usd.toFixed(2)}`;
  return `$${Math.round(usd)}`;
}

/** "12.3k tok · $0.02", or "12.3k tok" when the cost is unknown; null when nothing was used. */
export function formatUsage(tokens: number | null, usd: number | null | undefined): string | null {
  const parts: string[] = [];
  if (tokens) parts.push(`${shortCount(tokens)} tok`);
  const cost = formatCost(usd);
  if (cost && (tokens || (usd ?? 0) > 0)) parts.push(cost);
  return parts.length > 0 ? parts.join(' · ') : null;
}

/** "14:03:07" in the local time zone. */
export function clockTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '--:--:--';
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((part) => String(part).padStart(2, '0')).join(':');
}

/** A text progress bar `███░░░░░░░` of `width` cells; an unknown total draws an empty bar. */
export function progressBar(done: number, total: number | null, width: number): string {
  const filled = total ? Math.max(0, Math.min(width, Math.round((done / total) * width))) : 0;
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}
