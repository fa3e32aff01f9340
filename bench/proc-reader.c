/*
 * The baseline of the overhead benchmark: what reading a process's /proc files costs at least, i.e. the kernel
 * producing the text plus one read() loop into one buffer, nothing parsed.
 *   proc-reader <pid> <smaps|maps|rss> <rounds>
 * rss reads stat and status (what an RSS-only sampler such as psrecord or pidusage reads each tick). Prints the
 * CPU time (CLOCK_PROCESS_CPUTIME_ID: user + system) per round in microseconds.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char buffer[1 << 20];

static size_t slurp(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { perror(path); exit(1); }
    size_t total = 0;
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) total += (size_t)n;
    close(fd);
    return total;
}

static double cpu_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: proc-reader <pid> <smaps|maps|rss> <rounds>\n"); return 2; }
    const char *mode = argv[2];
    long rounds = strtol(argv[3], NULL, 10);
    char a[64], b[64];
    snprintf(a, sizeof a, "/proc/%s/%s", argv[1], strcmp(mode, "rss") ? mode : "stat");
    snprintf(b, sizeof b, "/proc/%s/status", argv[1]);
    size_t bytes = 0;
    double start = cpu_us();
    for (long i = 0; i < rounds; i++) {
        bytes += slurp(a);
        if (!strcmp(mode, "rss")) bytes += slurp(b);
    }
    printf("%.1f %zu\n", (cpu_us() - start) / rounds, bytes / (size_t)rounds);
    return 0;
}
