/**
 * A probe hands out last sample's region objects where nothing they are made of changed (RegionReuse). Against a
 * real process whose mappings are added, removed and changed and whose threads come and go, every sample of a
 * long-lived probe must read exactly as a first sample by a new probe, which has nothing to reuse.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { linuxCollector } from '../src/collector/linux/index.js';
import type { Snapshot } from '../src/collector/types.js';
import { startAllocTarget } from './helpers/targets.js';

const MiB = 1024 * 1024;
const PAGE = 4096;

/** The snapshot as JSON (key order included), but for when it was taken. */
const text = (s: Snapshot) => JSON.stringify({ ...s, takenAt: undefined });

const threadCount = (pid: number) => readdirSync(`/proc/${pid}/task`).length;

/**
 * Waits until every thread of the target waits in a system call, as the idle target's threads do: a thread still on
 * its way there (the main thread after its reply) has no readable stack pointer, and two samples could differ.
 */
async function settled(pid: number): Promise<void> {
  const onCpu = () => readdirSync(`/proc/${pid}/task`).some((tid) => readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').startsWith('running'));
  while (onCpu()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/**
 * A new probe's sample: nothing to reuse. A maps-only sample takes VmFlags from the probe's last smaps read, so a
 * new probe reads smaps once first (its regions, with working sets, are none a maps-only sample can reuse).
 */
function firstSample(pid: number, options: { usage: boolean }): Snapshot {
  if (options.usage) return linuxCollector.snapshot(pid, options);
  const probe = linuxCollector.open(pid);
  probe.sample({ usage: true });
  return probe.sample(options);
}

test('a long-lived probe reads every sample as a new probe does, reusing the regions that did not change', async (t) => {
  const target = await startAllocTarget();
  t.after(() => target.stop());
  const probe = linuxCollector.open(target.pid);
  let last = probe.sample({ usage: true });

  /** After each change: the probe's sample equals a fresh one; a second sample reuses (nearly) every region. */
  const check = async (step: string, usage = true) => {
    const options = { usage };
    await settled(target.pid);
    const cached = probe.sample(options);
    assert.equal(text(cached), text(firstSample(target.pid, options)), `${step}: as a new probe reads it`);
    const again = probe.sample(options);
    assert.equal(text(again), text(cached), `${step}: sampled again`);
    const reused = again.regions.filter((r, i) => r === cached.regions[i]).length;
    assert.ok(reused >= again.regions.length - 4, `${step}: ${reused} of ${again.regions.length} regions reused`);
    last = again;
  };

  await check('start');
  const mmap = await target.send(`mmap ${8 * MiB}`);
  await check('a mapping added');
  const many = await target.send('many 64');
  await check('64 mappings added');
  await target.send(`malloc ${4 * MiB}`);
  await target.send(`big 3 ${1 * MiB}`);
  await check('heap grown, glibc mmapped chunks added');
  const thread = await target.send(`thread ${256 * 1024}`);
  await check('a thread came');
  assert.equal(last.regions.find((r) => r.start === (thread.stackLo as string).slice(2))?.details, `[thread ${thread.tid} stack]`);
  await target.send(`unmap ${2 * MiB} ${mmap.addr}`);
  await check('a mapping shrank');
  await target.send(`protect ${PAGE} 0x${(BigInt(many.addr as string) + BigInt(2 * PAGE)).toString(16)}`);
  await check('a mapping changed protection (and merged with its neighbours)');
  await target.send(`unmap ${PAGE} 0x${(BigInt(many.addr as string) + BigInt(4 * PAGE)).toString(16)}`);
  await check('a mapping removed');

  // A thread on the CPU has no readable stack pointer: samples meanwhile classify stacks by the guard heuristic.
  const threads = threadCount(target.pid);
  await target.send(`spin ${256 * 1024}`);
  probe.sample({ usage: true });
  await target.send('unspin');
  while (threadCount(target.pid) > threads) await new Promise((resolve) => setTimeout(resolve, 10));
  await check('a thread came and went');
  // Maps only (no working sets) and smaps in turn, as a watch alternates them: each reuses its own kind's regions.
  await check('maps only', false);
  await check('smaps again');
  await target.send(`unmap ${PAGE} 0x${(BigInt(many.addr as string) + BigInt(8 * PAGE)).toString(16)}`);
  await check('a mapping removed, maps only', false);
  await check('smaps after a maps-only change');
  const smaps = probe.sample({ usage: true });
  probe.sample({ usage: false });
  const smapsAgain = probe.sample({ usage: true });
  const reused = smapsAgain.regions.filter((r, i) => r === smaps.regions[i]).length;
  assert.ok(reused >= smaps.regions.length - 4, `across a maps-only sample: ${reused} of ${smaps.regions.length} regions reused`);
});
