/**
 * Windows-side target of test/windows-collector.live.test.ts, run by Windows Node under Wine: grows V8's heap, then
 * has leakwatch's Windows collector (from this checkout's dist/) snapshot this very process, the one process whose
 * QueryWorkingSetEx Wine answers. Prints the snapshot as one JSON line on stdout; on an error, {"error": message}.
 */
const keep = [];
for (let i = 0; i < 200_000; i++) keep.push({ i, text: `retained ${i}` });
try {
  const { loadCollector } = await import(new URL('../../../dist/src/collector/index.js', import.meta.url).href);
  const collector = await loadCollector('win32');
  const snapshot = collector.snapshot(process.pid, { usage: true });
  process.stdout.write(`${JSON.stringify({ snapshot, retained: keep.length, limit: collector.memoryLimit(process.pid), self: collector.processes().find((p) => p.pid === process.pid) })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: error.message, stack: error.stack })}\n`);
}
