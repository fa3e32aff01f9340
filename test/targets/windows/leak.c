/*
 * Windows live-test target for watch + analyze: leaks at a steady, known rate until told to stop.
 *
 * Build: x86_64-w64-mingw32-gcc -Wall -Wextra -O0 -o leak.exe leak.c
 * Usage: leak.exe <out.json> <heap|virtual> <KiB per step> <ms per step> [<steps>]
 *   heap     HeapAlloc(GetProcessHeap()) of <KiB> per step, touched, never freed (blocks of 512 KiB and more get
 *            a separate allocation of their own from the heap manager, smaller ones grow the heap's segments)
 *   virtual  VirtualAlloc(MEM_RESERVE | MEM_COMMIT) of <KiB> (rounded up to pages) per step, touched, never freed
 *
 * Writes {"pid":N,"mode":"heap","kibPerStep":K,"msPerStep":T,"heap":<process heap handle>,"start":<ms>} to
 * <out.json> (through <out.json>.tmp and a rename), then makes step k at start + k * T ms (k = 1, 2, ...: a schedule,
 * so a late step does not shift the ones after it), and exits 0 once a file <out.json>.stop exists (checked every
 * step and every 20 ms in between). "start" is GetTickCount64() when the first step's clock started. With <steps>,
 * it stops allocating after that many steps and creates <out.json>.done: a known amount, whatever the machine's load,
 * that no longer changes while it is read. On a failure: one line on stderr, exit 1.
 */
#include <windows.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what) {
    fprintf(stderr, "leak.exe: %s failed: error %lu\n", what, GetLastError());
    exit(1);
}

static unsigned long parse(const char *s, const char *what) {
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v == 0) {
        fprintf(stderr, "leak.exe: %s must be a positive number, not '%s'\n", what, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    if ((argc != 5 && argc != 6) || (strcmp(argv[2], "heap") != 0 && strcmp(argv[2], "virtual") != 0)) {
        fprintf(stderr, "usage: leak.exe <out.json> <heap|virtual> <KiB per step> <ms per step> [<steps>]\n");
        return 2;
    }
    const char *json = argv[1];
    int heap_mode = strcmp(argv[2], "heap") == 0;
    size_t bytes = (size_t)parse(argv[3], "KiB per step") * 1024;
    ULONGLONG interval = parse(argv[4], "ms per step");
    ULONGLONG steps = argc == 6 ? parse(argv[5], "steps") : 0;
    char tmp[MAX_PATH], stop[MAX_PATH], done[MAX_PATH];
    snprintf(tmp, sizeof tmp, "%s.tmp", json);
    snprintf(stop, sizeof stop, "%s.stop", json);
    snprintf(done, sizeof done, "%s.done", json);
    HANDLE heap = GetProcessHeap();

    ULONGLONG start = GetTickCount64();
    FILE *out = fopen(tmp, "wb");
    if (out == NULL) fail("fopen");
    fprintf(out, "{\"pid\":%lu,\"mode\":\"%s\",\"kibPerStep\":%s,\"msPerStep\":%s,\"heap\":%" PRIu64 ",\"start\":%" PRIu64 "}\n",
            GetCurrentProcessId(), argv[2], argv[3], argv[4], (uint64_t)(uintptr_t)heap, (uint64_t)start);
    if (fclose(out) != 0) fail("fclose");
    if (!MoveFileExA(tmp, json, MOVEFILE_REPLACE_EXISTING)) fail("MoveFileEx");

    for (ULONGLONG step = 1;; step++) {
        ULONGLONG due = start + step * interval;
        for (ULONGLONG now = GetTickCount64(); now < due; now = GetTickCount64()) {
            if (GetFileAttributesA(stop) != INVALID_FILE_ATTRIBUTES) return 0;
            Sleep((DWORD)(due - now < 20 ? due - now : 20));
        }
        if (GetFileAttributesA(stop) != INVALID_FILE_ATTRIBUTES) return 0;
        void *p = heap_mode ? HeapAlloc(heap, 0, bytes)
                            : VirtualAlloc(NULL, bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
        if (p == NULL) fail(heap_mode ? "HeapAlloc" : "VirtualAlloc");
        memset(p, 0x5a, bytes);
        if (step == steps) {
            FILE *mark = fopen(done, "wb");
            if (mark == NULL || fclose(mark) != 0) fail("fopen .done");
            while (GetFileAttributesA(stop) == INVALID_FILE_ATTRIBUTES) Sleep(20);
            return 0;
        }
    }
}
