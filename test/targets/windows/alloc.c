/*
 * Windows live-test target: makes known allocations, one of each kind the Windows collector tells apart, and says
 * where they are. Runs under Wine (test/helpers/wine.ts) or on Windows.
 *
 * Build: x86_64-w64-mingw32-gcc -Wall -Wextra -O0 -o alloc.exe alloc.c -lpsapi
 * Usage: alloc.exe <out.json>
 *
 * Writes one JSON object to <out.json> (through <out.json>.tmp and a rename, so a reader never sees half of it; a
 * file, because under Wine a console write to a pipe fails), then waits until a file <out.json>.stop exists, and
 * exits 0. Addresses and sizes are decimal numbers of bytes (user addresses stay below 2^47, exact in a double):
 *
 *   {"pid": <Windows pid>, "allocations": [
 *     {"kind":"image",        "address": <exe base>, "size": <SizeOfImage>},
 *     {"kind":"virtualAlloc", "address", "size": <reserved 16 MiB>, "committed": <first 4 MiB, touched>},
 *     {"kind":"heap",         "address": <HeapCreate handle>, "regions": [{"address","size","committed"}, ...]},
 *     {"kind":"heapBlock",    "heap": <handle>, "address", "size"},           16 x 16 KiB, touched
 *     {"kind":"heapBlock",    "heap": <handle>, "address", "size", "large": true},   1 MiB (a separate block)
 *     {"kind":"section",      "address", "size"},    8 MiB pagefile-backed section (CreateFileMapping on
 *                                                     INVALID_HANDLE_VALUE), mapped read-write, touched
 *     {"kind":"mappedFile",   "address", "size", "path": "Z:\\...\\out.json.dat", "deviceName": "\\Device\\..."},
 *                                                     a 2 MiB file mapped read-only, read
 *     {"kind":"threadStack",  "threadId", "main": true|false, "address": <DeallocationStack>, "size": <StackBase -
 *                              DeallocationStack>, "stackBase", "stackLimit"}   the main thread and 2 threads with
 *                                                     256 KiB reserved stacks, parked until the end
 *   ]}
 * The heap regions come from HeapWalk (empty where it reports none); deviceName from GetMappedFileNameA ("" when it
 * fails). On a failure it prints one line on stderr and exits 1 before writing <out.json>.
 */
#include <windows.h>
#include <psapi.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define THREADS 2
#define HEAP_BLOCKS 16
#define TEB_DEALLOCATION_STACK 0x1478 /* x64 TEB: the base of the stack's reservation */

static FILE *out;
static const char *separator = "";

static void fail(const char *what) {
    fprintf(stderr, "alloc.exe: %s failed: error %lu\n", what, GetLastError());
    exit(1);
}

static uint64_t addr(const void *p) { return (uint64_t)(uintptr_t)p; }

/* Starts the next element of the allocations array, {"kind":"<kind>" and the fields fmt prints; end() closes it. */
static void begin(const char *kind, const char *fmt, ...) {
    va_list ap;
    fprintf(out, "%s\n  {\"kind\":\"%s\"", separator, kind);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    separator = ",";
}

static void end(void) { fputc('}', out); }

/* A JSON string: backslashes and quotes escaped, control characters as \u00XX. */
static void json_string(const char *s) {
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c < 0x20) fprintf(out, "\\u%04x", c);
        else fputc(c, out);
    }
    fputc('"', out);
}

struct thread_info {
    DWORD id;
    void *deallocation, *base, *limit;
    HANDLE ready;
};

static HANDLE stop_event;

static void stack_of_current_thread(struct thread_info *info) {
    NT_TIB *tib = (NT_TIB *)NtCurrentTeb();
    info->id = GetCurrentThreadId();
    info->base = tib->StackBase;
    info->limit = tib->StackLimit;
    info->deallocation = *(void **)((char *)NtCurrentTeb() + TEB_DEALLOCATION_STACK);
}

static DWORD WINAPI parked(void *arg) {
    struct thread_info *info = arg;
    volatile char touch[16 * 1024];
    memset((char *)touch, 0x5a, sizeof touch);
    stack_of_current_thread(info);
    SetEvent(info->ready);
    WaitForSingleObject(stop_event, INFINITE);
    return 0;
}

static void thread_item(const struct thread_info *t, int main_thread) {
    begin("threadStack", ",\"threadId\":%lu,\"main\":%s,\"address\":%" PRIu64 ",\"size\":%" PRIu64
          ",\"stackBase\":%" PRIu64 ",\"stackLimit\":%" PRIu64,
          t->id, main_thread ? "true" : "false", addr(t->deallocation), addr(t->base) - addr(t->deallocation),
          addr(t->base), addr(t->limit));
    end();
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: alloc.exe <out.json>\n");
        return 2;
    }
    const char *json = argv[1];
    char tmp[MAX_PATH], stop[MAX_PATH], data[MAX_PATH], full[MAX_PATH];
    snprintf(tmp, sizeof tmp, "%s.tmp", json);
    snprintf(stop, sizeof stop, "%s.stop", json);
    snprintf(data, sizeof data, "%s.dat", json);

    /* The image: this program's own module. */
    HMODULE self = GetModuleHandleA(NULL);
    IMAGE_NT_HEADERS64 *nt = (IMAGE_NT_HEADERS64 *)((char *)self + ((IMAGE_DOS_HEADER *)self)->e_lfanew);
    uint64_t image_size = nt->OptionalHeader.SizeOfImage;

    /* VirtualAlloc: reserve 16 MiB, commit and touch the first 4 MiB. */
    char *va = VirtualAlloc(NULL, 16 * MiB, MEM_RESERVE, PAGE_NOACCESS);
    if (va == NULL || VirtualAlloc(va, 4 * MiB, MEM_COMMIT, PAGE_READWRITE) == NULL) fail("VirtualAlloc");
    memset(va, 0x11, 4 * MiB);

    /* A private heap: small blocks, and one large enough to get a block of its own. */
    HANDLE heap = HeapCreate(0, 0, 0);
    if (heap == NULL) fail("HeapCreate");
    void *blocks[HEAP_BLOCKS];
    for (int i = 0; i < HEAP_BLOCKS; i++) {
        if ((blocks[i] = HeapAlloc(heap, 0, 16 * KiB)) == NULL) fail("HeapAlloc");
        memset(blocks[i], 0x22, 16 * KiB);
    }
    void *large = HeapAlloc(heap, 0, 1 * MiB);
    if (large == NULL) fail("HeapAlloc (large)");
    memset(large, 0x23, 1 * MiB);

    /* A pagefile-backed section, mapped read-write and touched. */
    HANDLE section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, (DWORD)(8 * MiB), NULL);
    if (section == NULL) fail("CreateFileMapping (pagefile)");
    char *section_view = MapViewOfFile(section, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    if (section_view == NULL) fail("MapViewOfFile (pagefile)");
    memset(section_view, 0x33, 8 * MiB);

    /* A 2 MiB file, mapped read-only and read. */
    HANDLE file = CreateFileA(data, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL,
                              CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE) fail("CreateFile");
    LARGE_INTEGER length = {.QuadPart = (LONGLONG)(2 * MiB)};
    if (!SetFilePointerEx(file, length, NULL, FILE_BEGIN) || !SetEndOfFile(file)) fail("SetEndOfFile");
    HANDLE mapping = CreateFileMappingA(file, NULL, PAGE_READONLY, 0, 0, NULL);
    if (mapping == NULL) fail("CreateFileMapping (file)");
    volatile char *file_view = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, 0);
    if (file_view == NULL) fail("MapViewOfFile (file)");
    unsigned sum = 0;
    for (uint64_t i = 0; i < 2 * MiB; i += 4096) sum += (unsigned char)file_view[i];
    (void)sum;
    if (GetFullPathNameA(data, sizeof full, full, NULL) == 0) fail("GetFullPathName");
    char device[MAX_PATH * 2] = "";
    if (GetMappedFileNameA(GetCurrentProcess(), (void *)file_view, device, sizeof device) == 0) device[0] = '\0';

    /* Threads with 256 KiB reserved stacks, parked until the end. */
    stop_event = CreateEventA(NULL, TRUE, FALSE, NULL);
    struct thread_info threads[THREADS + 1];
    stack_of_current_thread(&threads[0]);
    HANDLE handles[THREADS];
    for (int i = 1; i <= THREADS; i++) {
        threads[i].ready = CreateEventA(NULL, TRUE, FALSE, NULL);
        handles[i - 1] = CreateThread(NULL, 256 * KiB, parked, &threads[i], STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
        if (handles[i - 1] == NULL) fail("CreateThread");
        WaitForSingleObject(threads[i].ready, INFINITE);
    }

    out = fopen(tmp, "wb");
    if (out == NULL) fail("fopen");
    fprintf(out, "{\"pid\":%lu,\"allocations\":[", GetCurrentProcessId());
    begin("image", ",\"address\":%" PRIu64 ",\"size\":%" PRIu64, addr(self), image_size);
    end();
    begin("virtualAlloc", ",\"address\":%" PRIu64 ",\"size\":%" PRIu64 ",\"committed\":%" PRIu64, addr(va),
          16 * MiB, 4 * MiB);
    end();
    begin("heap", ",\"address\":%" PRIu64 ",\"regions\":[", addr(heap));
    PROCESS_HEAP_ENTRY entry = {0};
    const char *comma = "";
    HeapLock(heap);
    while (HeapWalk(heap, &entry)) {
        if (!(entry.wFlags & PROCESS_HEAP_REGION)) continue;
        fprintf(out, "%s{\"address\":%" PRIu64 ",\"size\":%" PRIu64 ",\"committed\":%" PRIu64 "}", comma,
                addr(entry.lpData), (uint64_t)entry.cbData, (uint64_t)entry.Region.dwCommittedSize);
        comma = ",";
    }
    HeapUnlock(heap);
    fputs("]}", out);
    for (int i = 0; i < HEAP_BLOCKS; i++) {
        begin("heapBlock", ",\"heap\":%" PRIu64 ",\"address\":%" PRIu64 ",\"size\":%" PRIu64, addr(heap),
              addr(blocks[i]), 16 * KiB);
        end();
    }
    begin("heapBlock", ",\"heap\":%" PRIu64 ",\"address\":%" PRIu64 ",\"size\":%" PRIu64 ",\"large\":true",
          addr(heap), addr(large), 1 * MiB);
    end();
    begin("section", ",\"address\":%" PRIu64 ",\"size\":%" PRIu64, addr(section_view), 8 * MiB);
    end();
    begin("mappedFile", ",\"address\":%" PRIu64 ",\"size\":%" PRIu64 ",\"path\":", addr((void *)file_view), 2 * MiB);
    json_string(full);
    fputs(",\"deviceName\":", out);
    json_string(device);
    end();
    for (int i = 0; i <= THREADS; i++) thread_item(&threads[i], i == 0);
    fputs("\n]}\n", out);
    if (fclose(out) != 0) fail("fclose");
    if (!MoveFileExA(tmp, json, MOVEFILE_REPLACE_EXISTING)) fail("MoveFileEx");

    while (GetFileAttributesA(stop) == INVALID_FILE_ATTRIBUTES) Sleep(20);

    SetEvent(stop_event);
    WaitForMultipleObjects(THREADS, handles, TRUE, INFINITE);
    UnmapViewOfFile((void *)file_view);
    CloseHandle(mapping);
    CloseHandle(file);
    DeleteFileA(data);
    return 0;
}
