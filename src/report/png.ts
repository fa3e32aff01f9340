/**
 * The report's charts as PNG files, for tickets and CI artefacts. chartjs-node-canvas needs the native `canvas`
 * package, an optional dependency (it compiles against cairo): where it is missing, --png says so in one line.
 * Only `report --png` loads this module, and it loads chartjs-node-canvas by a name TypeScript does not resolve,
 * so the build and every other command work without it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ChartConfiguration } from 'chart.js';
import { LeakwatchError } from '../errors.js';
import { niceDurationStep } from './axis.js';
import { type ChartSpec, chartSpecs, type ReportModel, type ReportSession } from './html.js';
import { formatElapsed } from '../vocabulary.js';

const WIDTH = 1200;
const HEIGHT = 500;

/** A `string`, not a literal: tsc then neither resolves the module nor needs its types. */
const RENDERER_PACKAGE: string = 'chartjs-node-canvas';

/** What leakwatch uses of chartjs-node-canvas. */
interface ChartRenderer {
  renderToBuffer(configuration: ChartConfiguration): Promise<Buffer>;
}
interface RendererModule {
  ChartJSNodeCanvas: new (options: { width: number; height: number; backgroundColour: string }) => ChartRenderer;
}

/** What canvas compiles against, on Debian and on Fedora: the error names them, so one line says what to do. */
const CANVAS_SYSTEM_PACKAGES =
  'Debian/Ubuntu: apt-get install build-essential python3 pkg-config libcairo2-dev libpango1.0-dev libgif-dev libjpeg-dev librsvg2-dev; ' +
  'Fedora: dnf install gcc-c++ make python3 pkgconf-pkg-config cairo-devel pango-devel giflib-devel libjpeg-turbo-devel librsvg2-devel';

async function loadRenderer(): Promise<ChartRenderer> {
  try {
    const { ChartJSNodeCanvas } = (await import(RENDERER_PACKAGE)) as RendererModule;
    return new ChartJSNodeCanvas({ width: WIDTH, height: HEIGHT, backgroundColour: 'white' });
  } catch (error) {
    throw new LeakwatchError(
      `--png needs the optional packages chartjs-node-canvas and canvas, which are not usable here (${(error as Error).message.split('\n')[0]}); ` +
        `install the libraries and build tools canvas compiles against (${CANVAS_SYSTEM_PACKAGES}), then run npm install again`,
    );
  }
}

/** Longest command and label a PNG's title shows: one line at the PNG's width. */
const TITLE_COMMAND_CHARS = 60;
const TITLE_LABEL_CHARS = 40;

/** Text on one line, cut to `max` characters with an ellipsis. */
function shortened(text: string, max: number): string {
  const chars = Array.from(text.replace(/\s+/g, ' ').trim());
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
}

/** Which session a PNG comes from, for its title: a chart passed around alone still says what it is. */
export function sessionTitle(session: Pick<ReportSession, 'id' | 'label' | 'command'>): string {
  const label = session.label ? ` "${shortened(session.label, TITLE_LABEL_CHARS)}"` : '';
  return `leakwatch session ${session.id}${label}: ${shortened(session.command, TITLE_COMMAND_CHARS)}`;
}

/** A chart's chart.js configuration for a PNG (pure: the tests read it where canvas is missing). */
export function pngChartConfig(spec: ChartSpec, session: ReportSession, durationSeconds: number): ChartConfiguration {
  return {
    type: 'line',
    data: { datasets: spec.datasets as never[] },
    options: {
      animation: false,
      parsing: false,
      plugins: { title: { display: true, text: [spec.title, sessionTitle(session)] }, legend: { position: 'top' } },
      scales: {
        x: {
          type: 'linear', min: 0, max: durationSeconds, title: { display: true, text: 'elapsed (h:mm:ss)' },
          // Whole steps from zero; none at the session's own (unround) end.
          ticks: { stepSize: niceDurationStep(durationSeconds), precision: 0, includeBounds: false, callback: (v) => formatElapsed(Number(v) * 1000) },
        },
        y: {
          stacked: spec.stacked, min: spec.y.min, max: spec.y.max, title: { display: true, text: spec.yTitle },
          ticks: { stepSize: spec.y.stepSize, callback: (_, i) => spec.y.labels[i] },
        },
      },
    },
  };
}

/** Writes one PNG per chart of the report into `dir` (created if needed); returns the files. */
export async function writePngs(model: ReportModel, dir: string, prefix: string): Promise<string[]> {
  const renderer = await loadRenderer();
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const spec of chartSpecs(model)) {
    const buffer = await renderer.renderToBuffer(pngChartConfig(spec, model.session, model.t.at(-1) ?? 0));
    const file = path.join(dir, `${prefix}-${spec.id}.png`);
    writeFileSync(file, buffer);
    files.push(file);
  }
  return files;
}
