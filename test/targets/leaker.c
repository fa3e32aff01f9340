/*
 * Live-test target for leak analysis: one memory behaviour per run, chosen by argv[1], ticking every 100 ms until
 * killed. Leaks: heap (malloc, never freed), mmap (anonymous mappings, never unmapped), threads (a parked thread
 * every 500 ms: stacks pile up). Not leaks: plateau (malloc for 5 s, then nothing), sawtooth (malloc up to 24 MiB,
 * free it all, rest, repeat), churn (malloc and free random sizes, steady state). And `mapfile <path>`: after 1 s, create
 * and map that file (for the report's escaping test: the path, like any extra argument, is the test's choice).
 * With LEAKER_TICKS=N in the environment it exits (code 3) after N ticks, like a crash: a count, not a time, so a
 * restart test sees the same lives on a busy machine.
 * Build: gcc -O0 -pthread -o leaker leaker.c
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define KiB 1024
#define MiB (1024 * 1024)
#define CHUNK (64 * KiB)   /* below the mmap threshold: lands in [heap] */

static long ticks_left = -1;   /* from LEAKER_TICKS; -1: run until killed */

static void tick(void) {
    usleep(100 * 1000);
    if (ticks_left > 0 && --ticks_left == 0) exit(3);
}

static void *touch(void *p, size_t n) { memset(p, 0x5a, n); return p; }

static void *parked(void *arg) { (void)arg; for (;;) pause(); return NULL; }

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    printf("{\"ready\":true,\"pid\":%d,\"mode\":\"%s\"}\n", (int)getpid(), mode);
    fflush(stdout);
    srand(42);
    if (getenv("LEAKER_TICKS") != NULL) ticks_left = atol(getenv("LEAKER_TICKS"));
    if (!strcmp(mode, "heap")) {
        for (;;) { for (int i = 0; i < 4; i++) touch(malloc(CHUNK), CHUNK); tick(); }   /* 2.5 MiB/s */
    } else if (!strcmp(mode, "mmap")) {
        for (;;) {
            void *p = mmap(NULL, 256 * KiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p != MAP_FAILED) touch(p, 256 * KiB);
            tick();
        }
    } else if (!strcmp(mode, "threads")) {
        for (int n = 0;; n++) {
            if (n % 5 == 0) { pthread_t t; pthread_create(&t, NULL, parked, NULL); pthread_detach(t); }
            tick();
        }
    } else if (!strcmp(mode, "plateau")) {
        for (int n = 0;; n++) { if (n < 50) touch(malloc(4 * CHUNK), 4 * CHUNK); tick(); }
    } else if (!strcmp(mode, "sawtooth")) {
        enum { PIECES = 24 * MiB / CHUNK };
        static void *pieces[PIECES];
        for (;;) {
            for (int i = 0; i < PIECES; i += PIECES / 20) {   /* fill over 20 ticks */
                for (int j = i; j < i + PIECES / 20 && j < PIECES; j++) pieces[j] = touch(malloc(CHUNK), CHUNK);
                tick();
            }
            for (int i = 0; i < PIECES; i++) free(pieces[i]);
            malloc_trim(0);
            /* Rest at the floor for 5 ticks (500 ms, two sample intervals at 250 ms): every cycle's floor is seen. */
            for (int i = 0; i < 5; i++) tick();
        }
    } else if (!strcmp(mode, "churn")) {
        enum { SLOTS = 256 };
        static void *slots[SLOTS];
        for (;;) {
            for (int k = 0; k < 64; k++) {
                int i = rand() % SLOTS;
                free(slots[i]);
                size_t n = (size_t)(rand() % (2 * CHUNK)) + 16;
                slots[i] = touch(malloc(n), n);
            }
            tick();
        }
    } else if (!strcmp(mode, "mapfile") && argc > 2) {
        for (int i = 0; i < 10; i++) tick();
        FILE *f = fopen(argv[2], "w+");
        if (f == NULL) { perror("fopen"); return 1; }
        for (int i = 0; i < MiB; i++) fputc('x', f);
        fflush(f);
        volatile char *p = mmap(NULL, MiB, PROT_READ, MAP_SHARED, fileno(f), 0);
        if (p == MAP_FAILED) { perror("mmap"); return 1; }
        for (;;) { (void)p[0]; tick(); }
    }
    fprintf(stderr, "usage: leaker heap|mmap|threads|plateau|sawtooth|churn|mapfile <path>\n");
    return 2;
}
