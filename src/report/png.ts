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

import type { ChartSpec } from './html.js';
import { formatBytes, formatElapsed } from '../vocabulary.js';

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

/** Writes one PNG per chart into `dir` (created if needed); returns the files. */
export async function writePngs(specs: ChartSpec[], durationSeconds: number, dir: string, prefix: string): Promise<string[]> {
  const renderer = await loadRenderer();
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const spec of specs) {
    const buffer = await renderer.renderToBuffer({
      type: 'line',
      data: { datasets: spec.datasets as never[] },
      options: {
        animation: false,
        parsing: false,
        plugins: { title: { display: true, text: spec.title }, legend: { position: 'top' } },
        scales: {
          x: { type: 'linear', min: 0, max: durationSeconds, title: { display: true, text: 'elapsed (h:mm:ss)' }, ticks: { callback: (v) => formatElapsed(Number(v) * 1000) } },
          y: { stacked: spec.stacked, beginAtZero: spec.stacked, title: { display: true, text: spec.yTitle }, ticks: { callback: (v) => formatBytes(Number(v)) } },
        },
      },
    });
    const file = path.join(dir, `${prefix}-${spec.id}.png`);
    writeFileSync(file, buffer);
    files.push(file);
  }
  return files;
}
