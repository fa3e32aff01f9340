// Live-test target for leak analysis of the V8 heap: `leak` retains ~1 MB/s of small objects, `churn` allocates as
// much garbage and keeps none (a GC sawtooth over a flat floor). Runs until killed.
const mode = process.argv[2];
const retained = [];
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, mode })}\n`);
setInterval(() => {
  const batch = Array.from({ length: 2000 }, (_, i) => ({ id: i, name: `object-${i}`, at: Date.now() }));
  if (mode === 'leak') retained.push(batch);
}, 100);
