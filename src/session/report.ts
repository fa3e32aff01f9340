/** The report files of stored sessions: one session's HTML (and its charts as PNG files), or two side by side. */
import type { Metric } from '../vocabulary.js';
import { withReadOnlyDatabase } from './database.js';
import { writeOutputFile } from './output.js';

/** Writes the HTML report of a stored session (and its charts as PNG files into `pngDir`); returns the files. */
export async function writeReport(id: number, dbFile: string, output = `leakwatch-session-${id}.html`, pngDir?: string, metric: Metric = 'committed'): Promise<{ html: string; pngs: string[] }> {
  const [{ chartJsSource, reportModel }, { renderReport }] = await Promise.all([import('./analyse.js'), import('../report/html.js')]);
  const { html, pngs } = await withReadOnlyDatabase(dbFile, async (db, alive) => {
    const model = reportModel(db, id, dbFile, alive, metric);
    const pngFiles = pngDir === undefined
      ? []
      : await (await import('../report/png.js')).writePngs(model, pngDir, `session-${id}`);
    return { html: renderReport(model, chartJsSource()), pngs: pngFiles };
  });
  writeOutputFile(output, html);
  return { html: output, pngs };
}

/** Writes the side-by-side HTML comparison of two stored sessions; returns where it went. */
export async function writeComparison(a: number, b: number, dbFile: string, output = `leakwatch-compare-${a}-${b}.html`, metric: Metric = 'committed'): Promise<string> {
  const [{ chartJsSource, reportModel }, { renderComparison }] = await Promise.all([import('./analyse.js'), import('../report/html.js')]);
  const html = await withReadOnlyDatabase(dbFile, (db, alive) =>
    renderComparison(reportModel(db, a, dbFile, alive, metric), reportModel(db, b, dbFile, alive, metric), chartJsSource()),
  );
  writeOutputFile(output, html);
  return output;
}
