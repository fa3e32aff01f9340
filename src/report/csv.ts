/**
 * CSV as spreadsheets read it safely: RFC 4180 quoting, and no cell that a spreadsheet would run as a formula.
 * Strings in CSV come from the watched program (its command line, mapping paths) or the user (labels): a cell that
 * starts with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'` (OWASP's advice), so
 * `=HYPERLINK(…)` arrives as text. Numbers are written as numbers: a negative one is data, not a formula.
 */

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell: a number as it is, a string defused and quoted when it must be, null/undefined as empty. */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) || text !== value ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record and its line end (LF, as csv-stringify and most tools write; every spreadsheet reads it). */
export const csvLine = (cells: readonly (string | number | boolean | null | undefined)[]) => `${cells.map(csvCell).join(',')}\n`;
