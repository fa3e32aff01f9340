/**
 * The whole command line, walked from the program itself (buildProgram().commands), so a new command is covered the
 * day it is added: each command's --help (what scripts/command-reference.ts renders, an Examples block, every
 * default commander knows), its --json on real data (one short real recording, an imported VMMap session, a live
 * target), its --format csv where it has one, and one-line usage errors with exit code 2.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/index.js';
import { helpText } from '../scripts/command-reference.js';
import { type CliResult, runCli } from './helpers/cli.js';
import { buildCTarget, repoRoot, startAllocTarget, type Target } from './helpers/targets.js';

const TIMEOUT_MS = 50_000;

/** The data every command reads, built once in `before`. */
interface Context {
  dir: string;
  /** The database with the recording (session `run`) and the imported VMMap session (session `vmmap`). */
  db: string;
  /** A second database: `import` of run's `export --json` goes there. */
  db2: string;
  /** `export --json` of the recording, written in `before`. */
  exportFile: string;
  demoDb: string;
  leaker: string;
  /** A live process for `snapshot` and `watch`. */
  target: Target;
  runResult: CliResult;
  run: number;
  runSamples: number;
  vmmap: number;
}

type Json = any;

interface Case {
  /** The command line after `leakwatch`, with --json: it prints one JSON document on stdout from real data. */
  args: (c: Context) => string[];
  /** The result `before` already has (the recording): not run a second time. */
  recorded?: (c: Context) => CliResult;
  /** What the JSON must say beyond being JSON. */
  check: (json: Json, c: Context) => void | Promise<void>;
}

const id = String;
const fixture = (name: string) => path.join(repoRoot(), 'test', 'fixtures', name);

/** One entry per command of the program; a command without one fails the test below. */
const SURFACE: Record<string, Case> = {
  snapshot: {
    args: (c) => ['snapshot', id(c.target.pid), '--json'],
    check: (s, c) => {
      assert.equal(s.pid, c.target.pid);
      assert.ok(s.types.heap.committed > 0 && s.regions.length > 0);
    },
  },
  watch: {
    args: (c) => ['watch', id(c.target.pid), '--duration', '2s', '--every', '250ms', '--db', path.join(c.dir, 'watch.db'), '--json'],
    check: (w) => {
      assert.equal(w.endReason, 'duration');
      assert.ok(w.samples >= 1, `${w.samples} samples`);
    },
  },
  run: {
    args: (c) => ['run', '--duration', '4s', '--every', '100ms', '--db', c.db, '--json', '--', c.leaker, 'heap'],
    recorded: (c) => c.runResult,
    check: (r) => {
      assert.deepEqual(Object.keys(r), ['session', 'samples', 'endReason', 'restarts', 'exitCode']);
      assert.equal(r.endReason, 'duration');
      assert.ok(r.samples >= 2, `${r.samples} samples`);
    },
  },
  analyze: {
    args: (c) => ['analyze', id(c.run), '--db', c.db, '--json'],
    check: (a, c) => {
      assert.equal(a.session, c.run);
      assert.ok(a.findings.length > 0);
      // The run warned that 4 s cannot be judged: the analysis agrees.
      for (const f of a.findings) assert.equal(f.verdict, 'insufficient-data', `${f.type}: ${f.explanation}`);
    },
  },
  report: {
    args: (c) => ['report', id(c.run), '--db', c.db, '-o', path.join(c.dir, 'report.html'), '--json'],
    check: (r, c) => {
      assert.deepEqual(r, { report: path.join(c.dir, 'report.html'), pngs: [] });
      assert.match(readFileSync(r.report, 'utf8'), /^<!DOCTYPE html>/i);
    },
  },
  sessions: {
    args: (c) => ['sessions', '--db', c.db, '--json'],
    check: (list, c) => assert.deepEqual(list.map((s: Json) => s.id).sort(), [c.run, c.vmmap].sort()),
  },
  show: {
    args: (c) => ['show', id(c.run), '--db', c.db, '--json'],
    check: (s, c) => {
      assert.equal(s.session.id, c.run);
      assert.equal(s.samples, c.runSamples);
      assert.ok(s.types.heap.last > s.types.heap.first, 'the leaker grew its heap');
    },
  },
  query: {
    args: (c) => ['query', id(c.vmmap), '--db', c.db, '--types', 'heap,private', '--json'],
    check: (rows) => {
      assert.equal(rows.length, 2, 'two VMMap snapshots');
      assert.deepEqual(rows.map((r: Json) => r.seconds), [0, 300], '--every 5m spaced them');
      assert.deepEqual(Object.keys(rows[0]), ['time', 'seconds', 'heap', 'private']);
    },
  },
  regions: {
    args: (c) => ['regions', id(c.run), '--db', c.db, '--top', '5', '--json'],
    check: (regions) => {
      assert.ok(regions.length > 0 && regions.length <= 5);
      for (const r of regions) assert.ok(typeof r.start === 'string' && typeof r.type === 'string' && r.committed >= 0);
    },
  },
  compare: {
    args: (c) => ['compare', id(c.vmmap), id(c.run), '--db', c.db, '--json'],
    check: (cmp, c) => {
      assert.equal(cmp.a, c.vmmap);
      assert.equal(cmp.b, c.run);
      assert.ok(cmp.types.length > 0 && typeof cmp.headline === 'string');
    },
  },
  export: {
    args: (c) => ['export', id(c.run), '--db', c.db, '--json'],
    check: (dump, c) => {
      assert.equal(dump.format, 'leakwatch-session');
      assert.equal(dump.session.id, c.run);
      for (const table of ['processes', 'samples', 'regions']) assert.ok(Array.isArray(dump[table]) && dump[table].length > 0, table);
      assert.deepEqual(dump, JSON.parse(readFileSync(c.exportFile, 'utf8')), 'the same dump as `export --json -o`');
    },
  },
  import: {
    args: (c) => ['import', c.exportFile, '--db', c.db2, '--json'],
    check: async (i, c) => {
      assert.deepEqual(i, { session: 1, format: 'json', samples: c.runSamples });
      // Lossless: exported again from the new database, the same rows (the ids match: both are session 1).
      assert.equal(c.run, 1);
      const again = await runCli(['export', '1', '--db', c.db2, '--json']);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(JSON.parse(again.stdout), JSON.parse(readFileSync(c.exportFile, 'utf8')));
    },
  },
  serve: {
    args: (c) => ['serve', '--db', c.db, '--listen', '127.0.0.1:0', '--duration', '1s', '--json'],
    check: (served, c) => {
      assert.match(served.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      assert.equal(served.db, c.db);
    },
  },
  rules: {
    args: () => ['rules', '--for', '10m', '--json'],
    check: (file) => {
      const alerts = file.groups[0].rules.filter((r: Json) => r.alert);
      assert.ok(alerts.some((r: Json) => r.alert === 'MemoryLeak' && r.for === '10m' && /leakwatch_verdict\{verdict="leak"/.test(r.expr)));
    },
  },
  prune: {
    args: (c) => ['prune', '--dry-run', '--keep', '100', '--db', c.db, '--json'],
    check: (p) => assert.deepEqual(p, { dryRun: true, sessions: [] }),
  },
  demo: {
    args: (c) => ['demo', '--duration', '3s', '--every', '250ms', '--db', c.demoDb, '--json'],
    check: (d, c) => {
      assert.ok(d.samples >= 1 && d.findings.length > 0);
      assert.equal(d.report, path.join(path.dirname(c.demoDb), 'leakwatch-demo-report.html'), 'the report is next to the database');
      assert.ok(existsSync(d.report));
    },
  },
};

/** Usage errors: one line on stderr starting `leakwatch: `, exit 2, nothing on stdout. */
const ERRORS: { args: (c: Context) => string[]; message: RegExp }[] = [
  { args: (c) => ['show', 'abc', '--db', c.db], message: /session must be a session id \(a positive integer\), got 'abc'/ },
  { args: (c) => ['query', id(c.run), '--types', 'brains', '--db', c.db], message: /unknown type 'brains' \(one of: image, /u },
  { args: (c) => ['analyze', id(c.run), '--bogus', '--db', c.db], message: /unknown option '--bogus'$/ },
  // commander's suggestion joins the line.
  { args: (c) => ['analyze', id(c.run), '--jsn', '--db', c.db], message: /unknown option '--jsn' \(Did you mean --json\?\)$/ },
  { args: () => ['sesions'], message: /unknown command 'sesions' \(Did you mean sessions\?\)$/ },
  { args: () => ['snapshot', 'abc'], message: /pid must be a positive integer, got 'abc'/ },
  { args: (c) => ['sessions', '--bogus', '--db', c.db], message: /unknown option '--bogus'/ },
  { args: (c) => ['regions', id(c.run), '--diff', '40s', '--db', c.db], message: /--diff needs <from>\.\.<to>/ },
  { args: (c) => ['compare', id(c.run), '--db', c.db], message: /missing required argument 'b'/ },
  { args: (c) => ['export', id(c.run), '--format', 'xml', '--db', c.db], message: /argument 'xml' is invalid\. Allowed choices are csv, json\./ },
  { args: (c) => ['prune', '--db', c.db], message: /prune needs --older-than <duration> or --keep <n>/ },
  { args: (c) => ['watch', id(c.target.pid), '--every', '0s', '--db', path.join(c.dir, 'never.db')], message: /--every needs a duration/ },
  { args: (c) => ['run', '--bogus', '--db', path.join(c.dir, 'never.db'), '--', c.leaker, 'heap'], message: /unknown option '--bogus'/ },
  // Nothing on stdout before the options are checked (the demo's "Running …" line included).
  { args: (c) => ['demo', '--every', '0s', '--db', path.join(c.dir, 'never.db')], message: /--every needs a duration/ },
];

/**
 * RFC 4180: fields separated by commas, records by LF or CRLF; a quoted field holds commas, line ends and `""` for a
 * quote. Throws on a quote inside an unquoted field, text after a closing quote or an unterminated quote.
 */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let state: 'start' | 'plain' | 'quoted' | 'closed' = 'start';
  const endField = () => {
    record.push(field);
    field = '';
    state = 'start';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (state === 'quoted') {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') (field += '"'), i++;
      else state = 'closed';
    } else if (ch === ',') {
      endField();
    } else if (ch === '\n' || (ch === '\r' && text[i + 1] === '\n')) {
      if (ch === '\r') i++;
      endField();
      records.push(record);
      record = [];
    } else if (state === 'closed') {
      throw new Error(`CSV: ${JSON.stringify(ch)} after a closing quote at offset ${i}`);
    } else if (ch === '"') {
      if (state === 'plain') throw new Error(`CSV: a quote inside an unquoted field at offset ${i}`);
      state = 'quoted';
    } else {
      field += ch;
      state = 'plain';
    }
  }
  if (state === 'quoted') throw new Error('CSV: unterminated quoted field');
  if (state !== 'start' || record.length > 0) {
    endField();
    records.push(record);
  }
  return records;
}

const hasOption = (command: Command, long: string) => command.options.some((o) => o.long === long);

function assertOneJsonDocument(result: CliResult): Json {
  assert.equal(result.code, 0, `exit code ${result.code}: ${result.stderr}`);
  const { stdout } = result;
  assert.ok(stdout.endsWith('\n'), 'stdout ends with a line end');
  // JSON.parse takes exactly one document: a second one, or a line of text, is a syntax error.
  try {
    return JSON.parse(stdout);
  } catch (error) {
    assert.fail(`stdout is not one JSON document (${(error as Error).message}): ${stdout.slice(0, 500)}`);
  }
}

function assertUsageError(result: CliResult, message: RegExp): void {
  assert.equal(result.code, 2, `exit code ${result.code}: ${result.stderr}`);
  assert.match(result.stderr, /^leakwatch: [^\n]+\n$/, 'exactly one line on stderr, starting leakwatch: ');
  assert.match(result.stderr.trimEnd(), message);
  assert.doesNotMatch(result.stderr, /\sat \S+:\d+:\d+|internal error/, 'no stack trace');
  assert.equal(result.stdout, '', 'nothing on stdout');
}

/**
 * Each option's entry in --help, by its flags: from the line that starts with them to the next option's (or the end
 * of the Options section), its wrapped lines joined with single spaces. Fails when an option is not listed.
 */
function optionEntries(help: string, command: Command): Map<string, string> {
  const lines = help.split('\n');
  const section = lines.indexOf('Options:');
  assert.ok(section >= 0, 'an Options: section');
  const end = lines.indexOf('', section);
  const options = command.createHelp().visibleOptions(command);
  const starts = options.map((o) => {
    const at = lines.findIndex((line, i) => i > section && i < end && (line === `  ${o.flags}` || line.startsWith(`  ${o.flags} `)));
    assert.ok(at >= 0, `--help lists ${o.flags}`);
    return at;
  });
  const entries = new Map<string, string>();
  options.forEach((o, i) => entries.set(o.flags, lines.slice(starts[i], starts[i + 1] ?? end).join(' ').replace(/\s+/g, ' ').trim()));
  return entries;
}

const commandNames = buildProgram().commands.map((c) => c.name());
const freshCommand = (name: string) => buildProgram().commands.find((c) => c.name() === name)!;

describe('the CLI surface, command by command', { concurrency: 3 }, () => {
  const c = {} as Context;

  before(async () => {
    c.dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-surface-'));
    c.db = path.join(c.dir, 'a.db');
    c.db2 = path.join(c.dir, 'b.db');
    c.exportFile = path.join(c.dir, 'export.json');
    c.demoDb = path.join(c.dir, 'demo', 'demo.db');
    c.leaker = buildCTarget('leaker');
    c.target = await startAllocTarget();
    await c.target.send(`malloc ${4 * 1024 * 1024}`);
    // The database is empty: the recording is session 1, the import session 2.
    c.runResult = await runCli(SURFACE.run.args(c), { timeoutMs: TIMEOUT_MS });
    assert.equal(c.runResult.code, 0, c.runResult.stderr);
    // A finding of its own: 4 s at 100 ms cannot be judged, and the run says so at the start.
    assert.match(c.runResult.stderr,
      /^leakwatch: warning: --duration 4s is too short for the analysis to judge a leak at --every 100ms; it needs at least 31s \(30 samples over 30 s or more\)\. The samples are recorded anyway\.$/m);
    // The command's own stdout (the leaker's ready line) goes to stderr: stdout holds only the JSON result.
    assert.match(c.runResult.stderr, /^\{"ready":true,"pid":\d+,"mode":"heap"\}$/m);
    const recorded = assertOneJsonDocument(c.runResult);
    c.run = recorded.session;
    c.runSamples = recorded.samples;
    const imported = await runCli(['import', fixture('vmmap-1.csv'), fixture('vmmap-2.csv'), '--every', '5m', '--db', c.db, '--json'], { timeoutMs: TIMEOUT_MS });
    c.vmmap = assertOneJsonDocument(imported).session;
    assert.deepEqual([c.run, c.vmmap], [1, 2]);
    const exported = await runCli(['export', id(c.run), '--json', '-o', c.exportFile, '--db', c.db], { timeoutMs: TIMEOUT_MS });
    assert.equal(exported.code, 0, exported.stderr);
    mkdirSync(path.dirname(c.demoDb));
  });

  after(async () => {
    await c.target?.stop();
    if (c.dir) rmSync(c.dir, { recursive: true, force: true });
  });

  test('every command of the program has an entry in the table, and every entry is a command', () => {
    assert.deepEqual([...commandNames].sort(), Object.keys(SURFACE).sort(), 'add the new command to SURFACE in test/cli-surface.live.test.ts');
  });

  test('the CSV parser of this test reads RFC 4180', () => {
    assert.deepEqual(parseCsv('a,"b ""x"", c",\r\n1,"2\n3",\n'), [['a', 'b "x", c', ''], ['1', '2\n3', '']]);
    assert.throws(() => parseCsv('a"b\n'));
    assert.throws(() => parseCsv('"a"b\n'));
    assert.throws(() => parseCsv('"a\n'));
  });

  for (const name of commandNames) {
    test(`leakwatch ${name} --help`, async () => {
      const command = freshCommand(name);
      const result = await runCli([name, '--help'], { timeoutMs: TIMEOUT_MS });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      const help = result.stdout;
      // What the README's reference renders is what the CLI prints (stdout is not a terminal: 80 columns).
      assert.equal(help, helpText(command, 80));
      const examples = /\nExamples:\n((?: {2}\$ .*\n)+)$/.exec(help);
      assert.ok(examples, `--help ends with an Examples: block:\n${help}`);
      const lines = examples[1].trimEnd().split('\n');
      assert.ok(lines.length >= 2 && lines.length <= 3, `2–3 examples, not ${lines.length}`);
      for (const line of lines) assert.match(line, new RegExp(`^ {2}\\$ leakwatch ${name}( |$)`));
      // Every option is listed, with every default commander knows.
      const entries = optionEntries(help, command);
      for (const option of command.options) {
        if (option.defaultValue === undefined) continue;
        const shown = `default: ${option.defaultValueDescription ?? JSON.stringify(option.defaultValue)}`;
        assert.ok(entries.get(option.flags)!.includes(shown), `${option.flags} shows (${shown}): ${entries.get(option.flags)}`);
      }
      if (name === 'watch') {
        assert.match(entries.get('--every <interval>')!, /\(default: "1s"\)/);
        assert.match(help, /^ {2}--children /m);
        assert.doesNotMatch(help, /--no-children/);
      }
      if (name === 'run') {
        assert.match(help, /^ {2}--no-children /m);
        assert.doesNotMatch(help, /^ {2}--children /m);
      }
    });

    test(`leakwatch ${name} --json`, { timeout: TIMEOUT_MS + 10_000 }, async () => {
      const command = freshCommand(name);
      assert.ok(hasOption(command, '--json'), `${name} has --json`);
      const entry = SURFACE[name];
      assert.ok(entry, `no entry for ${name} in SURFACE (test/cli-surface.live.test.ts): add the arguments that make it print JSON`);
      const args = entry.args(c);
      assert.ok(args.includes('--json'));
      const result = entry.recorded?.(c) ?? await runCli(args, { timeoutMs: TIMEOUT_MS });
      await entry.check(assertOneJsonDocument(result), c);
    });

    if (hasOption(freshCommand(name), '--format')) {
      test(`leakwatch ${name} --format csv`, async () => {
        const args = [...SURFACE[name].args(c).filter((a) => a !== '--json'), '--format', 'csv'];
        const result = await runCli(args, { timeoutMs: TIMEOUT_MS });
        assert.equal(result.code, 0, result.stderr);
        const [header, ...rows] = parseCsv(result.stdout);
        assert.ok(rows.length > 0, `rows under the header: ${result.stdout}`);
        for (const key of header) assert.match(key, /^[a-z][a-zA-Z0-9]*$/, 'header keys are camelCase, no spaces');
        assert.equal(new Set(header).size, header.length, `unique keys: ${header}`);
        rows.forEach((row, i) => assert.equal(row.length, header.length, `row ${i + 1} has ${row.length} cells, the header ${header.length}`));
        if (name === 'export') assert.deepEqual(header.slice(0, 2), ['time', 'seconds']);
      });
    }
  }

  test('regions --diff takes two durations, 0s included', async () => {
    const result = await runCli(['regions', id(c.run), '--diff', '0s..3s', '--db', c.db, '--format', 'csv'], { timeoutMs: TIMEOUT_MS });
    assert.equal(result.code, 0, result.stderr);
    const [header, ...rows] = parseCsv(result.stdout);
    assert.deepEqual(header, ['pid', 'change', 'start', 'end', 'type', 'protection', 'committedDelta', 'details']);
    assert.ok(rows.some((r) => r[4] === 'heap' && Number(r[6]) > 0), `the leaker's heap grew: ${result.stdout}`);
  });

  for (const error of ERRORS) {
    const shown = error.args({ db: 'DB', dir: 'DIR', leaker: 'leaker', run: 1, target: { pid: 4242 } } as Context).join(' ');
    test(`usage error: leakwatch ${shown}`, async () => {
      assertUsageError(await runCli(error.args(c), { timeoutMs: TIMEOUT_MS }), error.message);
    });
  }
});
