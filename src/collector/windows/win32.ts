/**
 * The Win32 and NT calls of the Windows collector, through koffi (kernel32, ntdll, psapi; no native addon of ours).
 * The only module that imports koffi, and only the Windows collector imports it, so Linux and `--help` never load
 * it. The DLLs are bound on first use, not at import. Structures go in and out as Buffers, decoded by the pure
 * functions of structs.ts; handles and pointers are BigInts (koffi 3), addresses go in as numbers.
 */
import koffi from 'koffi';
import { LeakwatchError } from '../../errors.js';

/** A kernel object handle as koffi gives it; null is NULL. */
export type Handle = bigint;

export interface Win32 {
  GetLastError(): number;
  OpenProcess(access: number, inherit: number, pid: number): Handle | null;
  OpenThread(access: number, inherit: number, tid: number): Handle | null;
  CloseHandle(handle: Handle): number;
  /** The pseudo-handle of our own process (-1). */
  GetCurrentProcess(): Handle;
  /** Fills `info` with a MEMORY_BASIC_INFORMATION; returns the bytes written, 0 on failure. */
  VirtualQueryEx(process: Handle, address: number, info: Buffer, length: number): number | bigint;
  /** Nonzero when all `size` bytes were read (last argument: NULL). */
  ReadProcessMemory(process: Handle, address: number, into: Buffer, size: number, read: null): number;
  /** Characters written (UTF-16), 0 on failure. */
  K32GetMappedFileNameW(process: Handle, address: number, name: Buffer, characters: number): number;
  QueryDosDeviceW(device: string, target: Buffer, characters: number): number;
  GetLogicalDrives(): number;
  K32GetProcessMemoryInfo(process: Handle, counters: Buffer, size: number): number;
  K32QueryWorkingSetEx(process: Handle, entries: Buffer, size: number): number;
  K32GetPerformanceInfo(info: Buffer, size: number): number;
  GlobalMemoryStatusEx(status: Buffer): number;
  IsWow64Process(process: Handle, wow64: Buffer): number;
  GetProcessTimes(process: Handle, creation: Buffer, exit: Buffer, kernel: Buffer, user: Buffer): number;
  WaitForSingleObject(handle: Handle, milliseconds: number): number;
  GetNativeSystemInfo(info: Buffer): void;
  CreateToolhelp32Snapshot(flags: number, pid: number): Handle | null;
  Process32FirstW(snapshot: Handle, entry: Buffer): number;
  Process32NextW(snapshot: Handle, entry: Buffer): number;
  Thread32First(snapshot: Handle, entry: Buffer): number;
  Thread32Next(snapshot: Handle, entry: Buffer): number;
  /** NTSTATUS: 0 on success. */
  NtQueryInformationProcess(process: Handle, infoClass: number, info: Buffer, length: number, returned: Buffer | null): number;
  NtQueryInformationThread(thread: Handle, infoClass: number, info: Buffer, length: number, returned: Buffer | null): number;
}

const PROTOTYPES = {
  kernel32: [
    'uint32 __stdcall GetLastError()',
    'void* __stdcall OpenProcess(uint32 access, int inherit, uint32 pid)',
    'void* __stdcall OpenThread(uint32 access, int inherit, uint32 tid)',
    'int __stdcall CloseHandle(void* handle)',
    'void* __stdcall GetCurrentProcess()',
    'uintptr __stdcall VirtualQueryEx(void* process, uint64 address, void* info, uintptr length)',
    'int __stdcall ReadProcessMemory(void* process, uint64 address, void* into, uintptr size, void* read)',
    'uint32 __stdcall K32GetMappedFileNameW(void* process, uint64 address, void* name, uint32 characters)',
    'uint32 __stdcall QueryDosDeviceW(str16 device, void* target, uint32 characters)',
    'uint32 __stdcall GetLogicalDrives()',
    'int __stdcall K32GetProcessMemoryInfo(void* process, void* counters, uint32 size)',
    'int __stdcall K32QueryWorkingSetEx(void* process, void* entries, uint32 size)',
    'int __stdcall K32GetPerformanceInfo(void* info, uint32 size)',
    'int __stdcall GlobalMemoryStatusEx(void* status)',
    'int __stdcall IsWow64Process(void* process, void* wow64)',
    'int __stdcall GetProcessTimes(void* process, void* creation, void* exit, void* kernel, void* user)',
    'uint32 __stdcall WaitForSingleObject(void* handle, uint32 milliseconds)',
    'void __stdcall GetNativeSystemInfo(void* info)',
    'void* __stdcall CreateToolhelp32Snapshot(uint32 flags, uint32 pid)',
    'int __stdcall Process32FirstW(void* snapshot, void* entry)',
    'int __stdcall Process32NextW(void* snapshot, void* entry)',
    'int __stdcall Thread32First(void* snapshot, void* entry)',
    'int __stdcall Thread32Next(void* snapshot, void* entry)',
  ],
  ntdll: [
    'int32 __stdcall NtQueryInformationProcess(void* process, uint32 infoClass, void* info, uint32 length, void* returned)',
    'int32 __stdcall NtQueryInformationThread(void* thread, uint32 infoClass, void* info, uint32 length, void* returned)',
  ],
} as const;

let bound: Win32 | undefined;

/** The calls, bound on first use. @throws LeakwatchError when a DLL or a function cannot be loaded. */
export function win32(): Win32 {
  if (bound) return bound;
  const functions: Record<string, unknown> = {};
  for (const [dll, prototypes] of Object.entries(PROTOTYPES)) {
    let library: ReturnType<typeof koffi.load>;
    try {
      library = koffi.load(`${dll}.dll`);
    } catch (error) {
      throw new LeakwatchError(`cannot load ${dll}.dll: ${(error as Error).message}`, 70);
    }
    for (const prototype of prototypes) {
      const name = /(\w+)\(/.exec(prototype)![1];
      try {
        functions[name] = library.func(prototype);
      } catch (error) {
        throw new LeakwatchError(`${dll}.dll has no ${name} (${(error as Error).message}): this Windows is too old for leakwatch (Windows 7 or later)`, 70);
      }
    }
  }
  bound = functions as unknown as Win32;
  return bound;
}
