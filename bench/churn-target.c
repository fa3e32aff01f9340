/*
 * The process the overhead benchmark samples: ~1000 mappings (500 one-page anonymous rw-p between read-only
 * pages), 64 MiB in [heap], 24 large mallocs (glibc mmapped chunks), like bench-target.ts.
 *   churn-target [remap-ms]
 * With remap-ms, every remap-ms it unmaps one anonymous mapping and maps another of a different size (1 or 2 MiB,
 * touched), so every tick of a watch sees a region go and another come. Prints its pid, then runs until killed.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long remap_ms = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
    long page = sysconf(_SC_PAGESIZE);
    char *many = mmap(NULL, 1000 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (many == MAP_FAILED) { perror("mmap"); return 1; }
    for (int i = 0; i < 1000; i++) {
        many[i * page] = 1;
        if (i % 2) mprotect(many + i * page, page, PROT_READ);
    }
    for (int i = 0; i < 1024; i++) memset(malloc(64 * 1024), 1, 64 * 1024);
    for (int i = 0; i < 24; i++) memset(malloc(3 << 20), 1, 3 << 20);
    printf("%d\n", getpid());
    fflush(stdout);
    size_t size = 1 << 20;
    char *moving = NULL;
    for (unsigned n = 0;; n++) {
        if (remap_ms == 0) { pause(); continue; }
        struct timespec wait = { remap_ms / 1000, (remap_ms % 1000) * 1000000L };
        nanosleep(&wait, NULL);
        if (moving != NULL) munmap(moving, size);
        size = (n % 2 ? 1 : 2) << 20;
        moving = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (moving == MAP_FAILED) { perror("mmap"); return 1; }
        memset(moving, 1, size);
    }
}
