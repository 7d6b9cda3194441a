/**
 * Text for a terminal. What Ralph shows comes from goal files, logs, models, commands and other
 * people, and written raw it can drive the terminal: `ESC ]0;…` retitles it, `ESC [2J` clears it,
 * OSC 52 writes the clipboard, a carriage return draws over what was printed. The TUI and the
 * command line both draw through these, so control characters never reach the terminal as such.
 *
 * Stripping works on single characters, never on whole sequences, so it is safe on text that
 * arrives in pieces (a streamed reply may split an escape sequence across two deltas): once ESC
 * is gone, what followed it is plain text.
 */

/** C0 and C1 controls (ESC, CSI, BEL, CR, tabs…) and DEL, but keeping newlines: for multi-line text that is split into rows later. */
const CONTROLS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;
/** The same, keeping tabs too: text printed as it is, in pieces. */
const CONTROLS_BUT_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Text on one line: controls become spaces, then runs of spaces one (protocol/text.ts: the daemon words errors with it too). */
export { oneLine } from '../protocol/text.ts';

/** Multi-line text made safe to draw: tabs become spaces, other controls go, line breaks stay. */
export function cleanText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/\t/g, '  ').replace(CONTROLS_BUT_NEWLINE, '');
}

/**
 * Text printed as it comes, possibly in pieces: every control goes but newline and tab. A carriage
 * return goes too (not turned into a newline): a `\r\n` split across two pieces must not become two lines.
 */
export function stripControls(text: string): string {
  return text.replace(CONTROLS_BUT_LAYOUT, '');
}

/**
 * The styles Ralph itself paints with (node's styleText: bold, dim, italic, underline and the
 * foreground colors, and their resets). A select graphic rendition made only of these parameters
 * is kept; any other sequence, and any other SGR (conceal, blink, background…), is stripped.
 */
const OWN_SGR_PARAMETER = /^(?:0|1|2|3|4|22|23|24|3[0-9]|9[0-7])$/;
const SGR = /\u001b\[([0-9;]*)m/g;

/**
 * A whole text about to be printed, whose styles (if any) came from Ralph's own painting: Ralph's
 * SGR sequences stay, every other control but newline and tab goes. Untrusted parts should still
 * be cleaned before they are painted (`oneLine`, `cleanText`): this is the last line of defence.
 */
export function terminalSafe(text: string): string {
  if (!text.includes('\u001b')) return stripControls(text);
  let safe = '';
  let last = 0;
  for (const match of text.matchAll(SGR)) {
    safe += stripControls(text.slice(last, match.index));
    const parameters = match[1] === '' ? ['0'] : match[1]!.split(';');
    if (parameters.every((parameter) => OWN_SGR_PARAMETER.test(parameter))) safe += match[0];
    last = match.index + match[0].length;
  }
  return safe + stripControls(text.slice(last));
}

/**
 * JSON text for a terminal. JSON.stringify escapes C0 controls (ESC is `\u001b`) but writes C1
 * controls and DEL raw, and some terminals act on C1 (U+009B is a one-character CSI): those are
 * escaped too, which leaves the JSON equal in value.
 */
export function jsonForTerminal(json: string): string {
  return json.replace(/[\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
