/**
 * Windows-side probe, run by Windows Node under Wine (test/helpers/wine.ts runWindowsScript): looks at another
 * process through koffi the way the Windows collector does, to prove the pieces work across processes.
 *
 * Usage: node.exe probe.mjs <out.json> <pid> [<address> ...]
 * Writes {"ticks": GetTickCount64(), "memory": {privateUsage, workingSetSize, pagefileUsage} from
 * K32GetProcessMemoryInfo, "regions": [one MEMORY_BASIC_INFORMATION per address from VirtualQueryEx: baseAddress,
 * allocationBase, allocationProtect, regionSize, state, protect, type]} to <out.json>; a failed call writes
 * {"error": "<call> failed: error <GetLastError()>"}. Exit 0 either way (a file, because under Wine a console write
 * to a pipe fails).
 */
import { writeFileSync } from 'node:fs';

const [out, pidText, ...addresses] = process.argv.slice(2);
const PROCESS_QUERY_INFORMATION = 0x0400;
const PROCESS_VM_READ = 0x0010;

const koffi = (await import('koffi')).default;
const kernel32 = koffi.load('kernel32.dll');
const MEMORY_BASIC_INFORMATION = koffi.struct('MEMORY_BASIC_INFORMATION', {
  BaseAddress: 'uint64', AllocationBase: 'uint64', AllocationProtect: 'uint32', PartitionId: 'uint16',
  RegionSize: 'uint64', State: 'uint32', Protect: 'uint32', Type: 'uint32',
});
const PROCESS_MEMORY_COUNTERS_EX = koffi.struct('PROCESS_MEMORY_COUNTERS_EX', {
  cb: 'uint32', PageFaultCount: 'uint32', PeakWorkingSetSize: 'uint64', WorkingSetSize: 'uint64',
  QuotaPeakPagedPoolUsage: 'uint64', QuotaPagedPoolUsage: 'uint64', QuotaPeakNonPagedPoolUsage: 'uint64',
  QuotaNonPagedPoolUsage: 'uint64', PagefileUsage: 'uint64', PeakPagefileUsage: 'uint64', PrivateUsage: 'uint64',
});
const OpenProcess = kernel32.func('void *__stdcall OpenProcess(uint32_t access, int inherit, uint32_t pid)');
const CloseHandle = kernel32.func('int __stdcall CloseHandle(void *handle)');
const GetLastError = kernel32.func('uint32_t __stdcall GetLastError()');
const GetTickCount64 = kernel32.func('uint64_t __stdcall GetTickCount64()');
const VirtualQueryEx = kernel32.func('size_t __stdcall VirtualQueryEx(void *process, uintptr_t address, _Out_ MEMORY_BASIC_INFORMATION *info, size_t length)');
const GetProcessMemoryInfo = kernel32.func('int __stdcall K32GetProcessMemoryInfo(void *process, _Inout_ PROCESS_MEMORY_COUNTERS_EX *counters, uint32_t cb)');

function probe() {
  const handle = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, 0, Number(pidText));
  if (handle === null) return { error: `OpenProcess failed: error ${GetLastError()}` };
  try {
    const counters = { cb: koffi.sizeof(PROCESS_MEMORY_COUNTERS_EX) };
    if (!GetProcessMemoryInfo(handle, counters, counters.cb)) return { error: `K32GetProcessMemoryInfo failed: error ${GetLastError()}` };
    const regions = [];
    for (const address of addresses) {
      const info = {};
      if (VirtualQueryEx(handle, Number(address), info, koffi.sizeof(MEMORY_BASIC_INFORMATION)) === 0) {
        return { error: `VirtualQueryEx(${address}) failed: error ${GetLastError()}` };
      }
      regions.push({
        baseAddress: Number(info.BaseAddress), allocationBase: Number(info.AllocationBase), allocationProtect: info.AllocationProtect,
        regionSize: Number(info.RegionSize), state: info.State, protect: info.Protect, type: info.Type,
      });
    }
    return {
      ticks: Number(GetTickCount64()),
      memory: { privateUsage: Number(counters.PrivateUsage), workingSetSize: Number(counters.WorkingSetSize), pagefileUsage: Number(counters.PagefileUsage) },
      regions,
    };
  } finally {
    CloseHandle(handle);
  }
}

writeFileSync(out, `${JSON.stringify(probe())}\n`);
