/** Writing a command's result to stdout: text for people, JSON and CSV with stable keys for machines. */
import { csvLine } from '../report/csv.js';
import { printableLines } from '../report/text.js';

/** Text for a terminal: whatever a stored or target string holds, only its line breaks reach the terminal as such. */
export const printText = (text: string) => process.stdout.write(`${printableLines(text)}\n`);

export const printJson = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

export const printCsv = (header: readonly string[], rows: readonly (readonly (string | number | boolean | null | undefined)[])[]) =>
  process.stdout.write([header, ...rows].map(csvLine).join(''));
