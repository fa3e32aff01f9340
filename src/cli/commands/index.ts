/** Every command, in the order `--help` lists them: record, judge, read back, maintain. */
import type { Command } from 'commander';
import { analyzeCommand } from './analyze.js';
import { compareCommand } from './compare.js';
import { demoCommand } from './demo.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { pruneCommand } from './prune.js';
import { queryCommand } from './query.js';
import { regionsCommand } from './regions.js';
import { reportCommand } from './report.js';
import { rulesCommand } from './rules.js';
import { runCommand } from './run.js';
import { serveCommand } from './serve.js';
import { sessionsCommand } from './sessions.js';
import { showCommand } from './show.js';
import { snapshotCommand } from './snapshot.js';
import { watchCommand } from './watch.js';

export const commands = (): Command[] => [
  snapshotCommand(), watchCommand(), runCommand(), analyzeCommand(), reportCommand(), sessionsCommand(), showCommand(),
  queryCommand(), regionsCommand(), compareCommand(), exportCommand(), importCommand(), serveCommand(), rulesCommand(), pruneCommand(), demoCommand(),
];
