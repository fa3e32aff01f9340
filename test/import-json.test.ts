/** A leakwatch JSON export is checked field by field before anything is stored (checkDump): each finding, one line. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkDump } from '../src/db/dump-check.js';
import { schemaVersion } from '../src/db/open.js';
import { type Dump, validDump } from './helpers/dump.js';

/** A valid dump changed by `change`, as JSON text parsed back (what import reads). */
function changed(change: (dump: Dump) => void): unknown {
  const dump = validDump();
  change(dump);
  return JSON.parse(JSON.stringify(dump));
}

/** checkDump refuses the dump with exactly this one-line message. */
function refused(dump: unknown, message: string | RegExp): void {
  assert.throws(() => checkDump(dump, schemaVersion()), (error: Error) => {
    assert.ok(error instanceof Error);
    assert.doesNotMatch(error.message, /\n/, 'one line');
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

test('JSON import check: a valid export passes whole, an older one without the newer columns, verdicts and execs too', () => {
  const dump = validDump();
  const checked = checkDump(JSON.parse(JSON.stringify(dump)), schemaVersion());
  assert.equal(checked.samples.length, dump.samples.length);
  assert.equal(checked.regions.length, dump.regions.length);
  const older = changed((d) => {
    d.schema = 1;
    delete (d as Partial<Dump>).verdicts;
    delete (d as Partial<Dump>).execs;
    delete d.session.limit_bytes;
    delete d.session.limit_source;
  });
  assert.deepEqual(checkDump(older, schemaVersion()).verdicts, []);
  assert.deepEqual(checkDump(older, schemaVersion()).execs, []);
});

test('JSON import check: wrong types, named by table, row and column', () => {
  refused(changed((d) => (d.samples[17].heap_committed = '12')), 'samples[17].heap_committed: "12" is not a whole number');
  refused(changed((d) => (d.samples[3].seq = 2.5)), 'samples[3].seq: 2.5 is not a whole number');
  refused(changed((d) => (d.session.command = 42)), 'session.command: 42 is not a text');
  refused(changed((d) => (d.processes[1].pid = [1])), 'processes[1].pid: a list is not a whole number');
  refused(changed((d) => (d.regions[2].details = { path: '/x' })), 'regions[2].details: an object is not a text');
  refused(changed((d) => (d.samples[0].with_usage = 2)), 'samples[0].with_usage: 2 is not 0 or 1');
  refused(changed((d) => (d.samples[0].with_usage = true)), 'samples[0].with_usage: true is not 0 or 1');
  refused(changed((d) => (d.session.host = null)), 'session.host: is null, but the column needs a text');
  refused(changed((d) => delete d.samples[5].elapsed_ms), 'samples[5].elapsed_ms: is missing');
  refused(changed((d) => (d.samples[4].brains = 1)), 'samples[4].brains: not a column of samples in this database');
  refused(changed((d) => ((d.samples as unknown[])[9] = 'row')), 'samples[9]: "row" is not a row (an object)');
  refused(changed((d) => ((d as unknown as Record<string, unknown>).regions = {})), 'regions: an object is not a list of rows');
  refused(changed((d) => (d.regions[0].start = 'zz')), 'regions[0].start: "zz" is not a hex address');
  refused(changed((d) => (d.regions[0].end = '1'.repeat(17))), /^regions\[0\]\.end: "1{17}" is not a hex address$/);
});

test('JSON import check: negatives, 1e308, Infinity and numbers beyond 2^53 in any integer column', () => {
  refused(changed((d) => (d.samples[17].heap_committed = -5)), 'samples[17].heap_committed: -5 is negative');
  refused(changed((d) => (d.regions[1].size = -1)), 'regions[1].size: -1 is negative');
  refused(changed((d) => (d.processes[0].first_seq = -1)), 'processes[0].first_seq: -1 is negative');
  refused(changed((d) => (d.samples[2].private_size = 1e308)), 'samples[2].private_size: 1e+308 is beyond 2^53');
  refused(changed((d) => (d.samples[2].blocks_count = 1)), 'samples[2].blocks_count: not a column of samples in this database');
  refused(changed((d) => (d.session.limit_bytes = 2 ** 53)), 'session.limit_bytes: 9007199254740992 is beyond 2^53');
  refused(changed((d) => (d.session.interval_ms = 0)), 'session.interval_ms: 0 is below 1');
  refused(changed((d) => (d.session.exit_code = 2 ** 40)), /^session\.exit_code: 1099511627776 is above 2147483647$/);
  // JSON has no Infinity, but 1e400 parses to it.
  refused(JSON.parse(JSON.stringify(validDump()).replace('"heap_committed":', '"heap_committed":1e400,"x":')), /^samples\[0\]\.heap_committed: Infinity is not a whole number$/);
  const negativeExit = changed((d) => (d.session.exit_code = -1));
  assert.equal(checkDump(negativeExit, schemaVersion()).session.exit_code, -1, 'an exit code may be negative');
});

test('JSON import check: unknown enum values', () => {
  refused(changed((d) => (d.session.end_reason = 'exploded')), 'session.end_reason: "exploded" is not one of duration, target-exited, interrupted, signal, pid-reused, error, imported');
  refused(changed((d) => (d.session.mode = 'spy')), 'session.mode: "spy" is not one of watch, run, import');
  refused(changed((d) => (d.regions[3].kind = 'moved')), /^regions\[3\]\.kind: "moved" is not one of full, added, removed, changed$/);
  refused(changed((d) => (d.regions[3].type = 'Heap')), /^regions\[3\]\.type: "Heap" is not one of image, private, /);
  refused(changed((d) => (d.verdicts[0].verdict = 'maybe')), 'verdicts[0].verdict: "maybe" is not one of suspected, leak');
  refused(changed((d) => (d.verdicts[0].type = 'brain')), /^verdicts\[0\]\.type: "brain" is not one of image, /);
});

test('JSON import check: seq strictly increasing per process, elapsed_ms never going back', () => {
  // samples[0] and [1] are ticks 0 and 1 of the first process (the second starts at tick 10).
  refused(changed((d) => (d.samples[1].seq = 0)), 'samples[1].seq: 0 repeats the seq of samples[0], the same process\'s previous sample');
  refused(changed((d) => ([d.samples[1].seq, d.samples[2].seq] = [2, 1])), 'samples[2].seq: 1 is before the seq of samples[1], the same process\'s previous sample');
  refused(changed((d) => (d.samples[5].elapsed_ms = -1000)), 'samples[5].elapsed_ms: -1000 is negative');
  refused(changed((d) => (d.samples.at(-1)!.elapsed_ms = 2 ** 53 - 1)), /^samples\[\d+\]\.elapsed_ms: 9007199254740991 after started_at is beyond tomorrow$/);
  refused(changed((d) => (d.samples[5].elapsed_ms = 3500)), 'samples[5].elapsed_ms: 3500 is before 4000 of samples[4], an earlier tick (seq 4)');
  refused(changed((d) => (d.samples[0].seq = 99)), 'samples[0].seq: 99 is outside its process\'s first_seq..last_seq (0..59)');
  refused(changed((d) => (d.processes[1].last_seq = 5)), 'processes[1].last_seq: 5 is before first_seq 10');
});

test('JSON import check: times are sane epoch milliseconds, a session ends after it starts', () => {
  refused(changed((d) => (d.session.started_at = 'yesterday')), 'session.started_at: "yesterday" is not a time in epoch milliseconds');
  refused(changed((d) => (d.session.started_at = 0)), 'session.started_at: 0 is not a time in epoch milliseconds between 2000-01-01 and tomorrow');
  refused(changed((d) => (d.samples[8].taken_at = Date.now() + 7 * 86_400_000)), /^samples\[8\]\.taken_at: \d+ is not a time in epoch milliseconds between 2000-01-01 and tomorrow$/);
  refused(changed((d) => (d.verdicts[1].first_reached_at = 8.64e15 + 1)), /^verdicts\[1\]\.first_reached_at: 8640000000000001 is not a time/);
  refused(changed((d) => (d.session.ended_at = (d.session.started_at as number) - 1)), /^session\.ended_at: \d+ is before started_at \d+$/);
  refused(changed((d) => (d.session.end_reason = null)), 'session.end_reason: is null, but ended_at is not: a session ends with both');
});

test('JSON import check: references and identities', () => {
  refused(changed((d) => (d.samples[6].process_id = 99)), 'samples[6].process_id: 99 is not the id of any of the processes');
  refused(changed((d) => (d.regions[4].sample_id = 1)), 'regions[4].sample_id: 1 is not the id of any of the samples');
  refused(changed((d) => (d.samples[6].session_id = 8)), 'samples[6].session_id: 8 is not the session\'s id 7');
  refused(changed((d) => (d.processes[1].id = 3)), 'processes[1].id: 3 is also the id of processes[0]');
  refused(changed((d) => (d.samples[7].id = d.samples[2].id)), 'samples[7].id: 102 is the id of an earlier sample too');
  refused(changed((d) => Object.assign(d.processes[1], { pid: 4242, start_time: d.processes[0].start_time })), /^processes\[1\]: pid 4242 started at ".*" is already processes\[0\]$/);
  refused(changed((d) => d.verdicts.push({ ...d.verdicts[0] })), 'verdicts[2]: heap suspected is already verdicts[0]');
  refused(changed((d) => (d.execs[0].process_id = 99)), 'execs[0].process_id: 99 is not the id of any of the processes');
  refused(changed((d) => (d.execs[0].seq = 5)), "execs[0].seq: 5 is outside its process's first_seq..last_seq (10..59)");
  refused(changed((d) => d.execs.push({ ...d.execs[0] })), 'execs[1]: process 4 at seq 59 is already execs[0]');
  refused(changed((d) => (d.execs[0].command = null)), 'execs[0].command: is null, but the column needs a text');
  refused(changed((d) => (d.regions[0].end = d.regions[0].start)), /^regions\[0\]\.end: "7f0000000000" is not above its start "7f0000000000"$/);
});

test('JSON import check: what is not a leakwatch export, or is a newer one', () => {
  for (const value of [null, 42, 'text', [], {}, { format: 'other' }]) refused(value, 'not a leakwatch export (export --format json)');
  refused(changed((d) => (d.schema = schemaVersion() + 1)), `schema: exported by a newer leakwatch (schema ${schemaVersion() + 1}; this one knows up to ${schemaVersion()})`);
  refused(changed((d) => ((d as unknown as Record<string, unknown>).schema = '2')), 'schema: "2" is not a schema version');
  refused(changed((d) => ((d as unknown as Record<string, unknown>).extra = 1)), 'extra: not a part of a leakwatch export');
  refused(changed((d) => ((d as unknown as Record<string, unknown>).session = [])), 'session: a list is not a row (an object)');
  // Deep nesting where a number belongs: refused without walking into it.
  const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
  const nested = changed(() => {}) as Dump;
  nested.samples[0].seq = deep;
  refused(nested, 'samples[0].seq: a list is not a whole number');
  // Control characters in a refused value are shown escaped: the message stays one printable line.
  refused(changed((d) => (d.session.mode = '\u001b]0;x\u0007\n')), /^session\.mode: "\\u001b]0;x\\u0007\\n" is not one of/);
});
