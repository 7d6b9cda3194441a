/** Text from goal files is anyone's: shown on one line, without control characters that could drive the terminal. */
export function oneLine(text: string): string {
  // C0 and C1 controls (ESC, CSI, newlines, tabs…) become spaces, then runs of spaces one.
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(/\s+/g, ' ').trim();
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
