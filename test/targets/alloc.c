/*
 * Live-test target for leakwatch: allocates memory of a chosen kind on demand.
 *
 * Build: gcc -Wall -Wextra -O0 -pthread -o alloc alloc.c   (add -lrt on glibc < 2.34)
 * Prints {"ready":true,"pid":N}, then reads one command per line from stdin and
 * answers each with exactly one JSON line on stdout (sizes in bytes):
 *   malloc <bytes>          main-arena malloc in 64 KiB chunks ([heap], brk)
 *   arena <bytes>           same in a new parked thread (non-main glibc arena)
 *   mmap <bytes>            anonymous private rw mapping, touched
 *   reserve <bytes>         anonymous PROT_NONE mapping, never touched
 *   thread <stacksize>      parked thread with that stack size (>= 64 KiB)
 *   mapfile <path> <bytes>  file of <bytes> 'x', mapped read-only shared, read
 *   shm <bytes>             memfd "leakwatch-test", mapped shared, touched
 *   devshm <name> <bytes>   shm_open("/<name>"), mapped shared, touched
 *   spin <stacksize>        a thread with that stack size that never leaves the CPU
 *   unspin                  ends the spinning threads
 *   many <n>                n separate page-sized mappings (alternating rw-p / r--p)
 *   big <n> <bytes>         n mallocs of <bytes> each, above the mmap threshold: glibc mmaps each
 *                           (replies the chunks' total size from their headers and the range they span)
 *   fill <bytes> <byte> [<addr>]  anonymous rw mapping filled with <byte> (0-255), at <addr> exactly
 *                           when given (MAP_FIXED_NOREPLACE)
 *   unmap <bytes> <addr>    munmap: a mapping goes, shrinks or is cut in two
 *   protect <bytes> <addr>  mprotect PROT_READ: a mapping changes, or is cut
 *   end                     the address of the linker's `end` symbol: where this program's .bss ends
 *   dlopen <path>           dlopen(RTLD_NOW) a shared library
 *   nodump                  prctl(PR_SET_DUMPABLE, 0)
 *   zombie                  fork a child that exits and is never reaped; replies its pid
 *   exit <code>             exit with that code, no reply
 *   quit                    exit 0, no reply (EOF on stdin does the same)
 * Errors answer {"error":"..."}. Memory is freed only by unmap; /dev/shm names are
 * unlinked at exit (not on SIGKILL: the caller must clean those up).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHUNK (64 * 1024)          /* below the 128 KiB mmap threshold */
#define STACK_TOUCH (16 * 1024)
#define MAX_SHM 64

static char *shm_names[MAX_SHM];
static int shm_count;

static void reply(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* Replies with an error naming the failed call and errno, then returns. */
#define FAIL(what) do { reply("{\"error\":\"%s: %s\"}", what, strerror(errno)); return; } while (0)

/* Parses a positive decimal size; returns 0 on error. */
static size_t parse_size(const char *s) {
    char *end;
    if (s == NULL || *s < '0' || *s > '9') return 0;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    return (errno || *end) ? 0 : (size_t)v;
}

/* mallocs <bytes> in CHUNK pieces, touches them, chains them (never freed). */
static void *alloc_chunks(size_t bytes) {
    void *first = NULL, **prev = NULL;
    for (size_t done = 0; done < bytes; done += CHUNK) {
        size_t n = bytes - done < CHUNK ? bytes - done : CHUNK;
        void **p = malloc(n < sizeof(void *) ? sizeof(void *) : n);
        if (p == NULL) return NULL;
        memset(p, 0xab, n);
        *p = NULL;
        if (prev) *prev = p; else first = p;
        prev = p;
    }
    return first;
}

static void park(void) {
    for (;;) pause();   /* blocked in a syscall forever */
}

struct job {
    size_t size;
    pid_t tid;
    void *addr, *stack_lo, *stack_hi;
    int done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void job_finish(struct job *j) {
    j->tid = (pid_t)syscall(SYS_gettid);
    pthread_mutex_lock(&j->mu);
    j->done = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static void *arena_main(void *arg) {
    struct job *j = arg;
    j->addr = alloc_chunks(j->size);
    job_finish(j);
    park();
    return NULL;
}

static void *stack_main(void *arg) {
    struct job *j = arg;
    volatile char buf[STACK_TOUCH];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char)i;
    job_finish(j);   /* no malloc here: it would create a glibc arena for this thread */
    park();
    return NULL;
}

static volatile int spinning = 1;

/* Stays on the CPU, so /proc/PID/task/TID/syscall says "running" and has no stack pointer. */
static void *spin_main(void *arg) {
    job_finish(arg);
    while (spinning) {}
    return NULL;
}

/* Runs fn in a new detached thread, waits until it called job_finish and
 * records the thread's stack range (pthread_getattr_np mallocs, so it is
 * called here in the main thread). */
static int run_job(void *(*fn)(void *), struct job *j, size_t stacksize) {
    pthread_attr_t attr;
    pthread_t t;
    size_t size = 0;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = stacksize ? pthread_attr_setstacksize(&attr, stacksize) : 0;
    if (rc == 0) rc = pthread_create(&t, &attr, fn, j);
    pthread_attr_destroy(&attr);
    if (rc != 0) { errno = rc; return -1; }
    pthread_mutex_lock(&j->mu);
    while (!j->done) pthread_cond_wait(&j->cv, &j->mu);
    pthread_mutex_unlock(&j->mu);
    if (pthread_getattr_np(t, &attr) == 0) {   /* t stays valid: the thread never exits */
        pthread_attr_getstack(&attr, &j->stack_lo, &size);
        pthread_attr_destroy(&attr);
    }
    j->stack_hi = (char *)j->stack_lo + size;
    return 0;
}

static void *map_fd(int fd, size_t bytes, int prot) {
    void *p = mmap(NULL, bytes, prot, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void unlink_shm(void) {
    for (int i = 0; i < shm_count; i++) shm_unlink(shm_names[i]);
}

static void print_json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        if ((unsigned char)*s < 0x20) printf("\\u%04x", *s); else putchar(*s);
    }
    putchar('"');
}

/* n mallocs of <bytes>, touched, never freed; the chunk headers (glibc's: size with IS_MMAPPED, just below
 * each block) tell what glibc mapped. */
static void big(size_t count, size_t bytes) {
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    size_t chunk_bytes = 0;
    for (size_t i = 0; i < count; i++) {
        char *p = malloc(bytes);
        if (p == NULL) FAIL("malloc");
        memset(p, 0xab, bytes);
        size_t size = *(volatile size_t *)(p - sizeof(size_t));
        if (!(size & 2)) { reply("{\"error\":\"malloc(%zu) was not mmapped\"}", bytes); return; }
        uintptr_t header = (uintptr_t)p - 2 * sizeof(size_t);
        chunk_bytes += size & ~(size_t)7;
        if (header < lo) lo = header;
        if (header + (size & ~(size_t)7) > hi) hi = header + (size & ~(size_t)7);
    }
    reply("{\"ok\":\"big\",\"count\":%zu,\"chunkBytes\":%zu,\"lo\":\"0x%" PRIxPTR "\",\"hi\":\"0x%" PRIxPTR "\"}",
          count, chunk_bytes, lo, hi);
}

/* An anonymous mapping of <bytes> filled with <byte>, at <at> exactly unless it is NULL. */
static void fill(size_t bytes, const char *byte, const char *at) {
    char *rest = "";
    unsigned long value = byte ? strtoul(byte, &rest, 0) : 256;
    void *want = at ? (void *)(uintptr_t)strtoull(at, NULL, 0) : NULL;
    if (bytes == 0 || value > 255 || *rest) { reply("{\"error\":\"usage: fill <bytes> <byte> [<addr>]\"}"); return; }
    void *p = mmap(want, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | (at ? MAP_FIXED_NOREPLACE : 0), -1, 0);
    if (p == MAP_FAILED) FAIL("mmap");
    if (at && p != want) { reply("{\"error\":\"mmap placed the block elsewhere (kernel without MAP_FIXED_NOREPLACE?)\"}"); return; }
    memset(p, (int)value, bytes);
    reply("{\"ok\":\"fill\",\"addr\":\"0x%" PRIxPTR "\",\"bytes\":%zu}", (uintptr_t)p, bytes);
}

extern char end[];   /* the linker's symbol just past the program's .bss */

static void command(char *line) {
    char *cmd = strtok(line, " \t\r\n");
    char *a1 = strtok(NULL, " \t\r\n"), *a2 = strtok(NULL, " \t\r\n"), *a3 = strtok(NULL, " \t\r\n");
    size_t n = parse_size(a1);
    if (cmd == NULL) { reply("{\"error\":\"empty command\"}"); return; }
    static const char *known[] = {"malloc", "arena", "mmap", "reserve", "thread", "mapfile", "shm", "devshm", "many",
                                   "spin", "unspin", "nodump", "zombie", "big", "fill", "unmap", "protect", "end", "dlopen", "exit", "quit", NULL};
    int k = 0;
    while (known[k] && strcmp(known[k], cmd)) k++;
    if (!known[k]) { reply("{\"error\":\"unknown command\"}"); return; }
    if (!strcmp(cmd, "quit")) exit(0);
    if (!strcmp(cmd, "exit")) exit(a1 ? (int)strtol(a1, NULL, 10) : 0);
    if (!strcmp(cmd, "unspin")) {   /* lets every spinning thread end */
        spinning = 0;
        reply("{\"ok\":\"unspin\"}");
        return;
    }
    if (!strcmp(cmd, "nodump")) {   /* what setuid programs and some daemons do: /proc/PID/maps closes to others */
        if (prctl(PR_SET_DUMPABLE, 0) != 0) FAIL("prctl");
        reply("{\"ok\":\"nodump\"}");
        return;
    }
    if (!strcmp(cmd, "zombie")) {   /* a child that has exited and is never reaped */
        pid_t child = fork();
        if (child < 0) FAIL("fork");
        if (child == 0) _exit(0);
        char path[64], stat[256] = "";
        snprintf(path, sizeof path, "/proc/%d/stat", (int)child);
        for (int tries = 0; tries < 1000 && !strstr(stat, ") Z "); tries++) {
            FILE *f = fopen(path, "r");
            if (f) { if (!fgets(stat, sizeof stat, f)) stat[0] = 0; fclose(f); }
            usleep(1000);
        }
        reply("{\"ok\":\"zombie\",\"pid\":%d}", (int)child);
        return;
    }
    if (!strcmp(cmd, "big")) {
        if (n == 0 || parse_size(a2) == 0) { reply("{\"error\":\"usage: big <n> <bytes>\"}"); return; }
        big(n, parse_size(a2));
        return;
    }
    if (!strcmp(cmd, "fill")) {
        fill(n, a2, a3);
        return;
    }
    if (!strcmp(cmd, "unmap") || !strcmp(cmd, "protect")) {
        void *at = a2 ? (void *)(uintptr_t)strtoull(a2, NULL, 0) : NULL;
        if (n == 0 || at == NULL) { reply("{\"error\":\"usage: %s <bytes> <addr>\"}", cmd); return; }
        if ((!strcmp(cmd, "unmap") ? munmap(at, n) : mprotect(at, n, PROT_READ)) != 0) FAIL(cmd);
        reply("{\"ok\":\"%s\"}", cmd);
        return;
    }
    if (!strcmp(cmd, "end")) {
        reply("{\"ok\":\"end\",\"end\":\"0x%" PRIxPTR "\"}", (uintptr_t)end);
        return;
    }
    if (!strcmp(cmd, "dlopen")) {
        if (a1 == NULL || dlopen(a1, RTLD_NOW) == NULL) { reply("{\"error\":\"dlopen: %s\"}", a1 ? dlerror() : "no path"); return; }
        reply("{\"ok\":\"dlopen\"}");
        return;
    }
    if (!strcmp(cmd, "mapfile") || !strcmp(cmd, "devshm")) {
        n = parse_size(a2);   /* these take <name> <bytes> */
        if (a1 == NULL || n == 0) { reply("{\"error\":\"usage: %s <name> <bytes>\"}", cmd); return; }
    } else if (n == 0 || a2 != NULL) {
        reply("{\"error\":\"usage: %s <bytes>\"}", cmd); return;
    }

    if (!strcmp(cmd, "malloc")) {
        if (alloc_chunks(n) == NULL) FAIL("malloc");
        reply("{\"ok\":\"malloc\",\"bytes\":%zu}", n);
    } else if (!strcmp(cmd, "arena")) {
        struct job *j = calloc(1, sizeof *j);   /* read by the thread forever */
        j->size = n;
        if (run_job(arena_main, j, 0) != 0) FAIL("pthread_create");
        if (j->addr == NULL) { reply("{\"error\":\"arena malloc failed\"}"); return; }
        reply("{\"ok\":\"arena\",\"tid\":%d,\"addr\":\"0x%" PRIxPTR "\"}", (int)j->tid, (uintptr_t)j->addr);
    } else if (!strcmp(cmd, "mmap") || !strcmp(cmd, "reserve")) {
        int rw = !strcmp(cmd, "mmap");
        void *p = mmap(NULL, n, rw ? PROT_READ | PROT_WRITE : PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) FAIL("mmap");
        if (rw) memset(p, 0xab, n);
        reply("{\"ok\":\"%s\",\"addr\":\"0x%" PRIxPTR "\",\"bytes\":%zu}", cmd, (uintptr_t)p, n);
    } else if (!strcmp(cmd, "many")) {   /* n separate mappings: one region, every other page read-only */
        long page = sysconf(_SC_PAGESIZE);
        char *p = mmap(NULL, n * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) FAIL("mmap");
        memset(p, 1, n * (size_t)page);
        for (size_t i = 1; i < n; i += 2)
            if (mprotect(p + i * (size_t)page, (size_t)page, PROT_READ) != 0) FAIL("mprotect");
        reply("{\"ok\":\"many\",\"addr\":\"0x%" PRIxPTR "\",\"mappings\":%zu}", (uintptr_t)p, n);
    } else if (!strcmp(cmd, "thread") || !strcmp(cmd, "spin")) {
        if (n < 4 * STACK_TOUCH) { reply("{\"error\":\"stacksize must be >= %d\"}", 4 * STACK_TOUCH); return; }
        struct job *j = calloc(1, sizeof *j);
        if (run_job(strcmp(cmd, "spin") ? stack_main : spin_main, j, n) != 0) FAIL("pthread_create");
        reply("{\"ok\":\"%s\",\"tid\":%d,\"stackLo\":\"0x%" PRIxPTR "\",\"stackHi\":\"0x%" PRIxPTR "\",\"stacksize\":%zu}",
              cmd, (int)j->tid, (uintptr_t)j->stack_lo, (uintptr_t)j->stack_hi, n);
    } else if (!strcmp(cmd, "mapfile")) {
        static char block[CHUNK];
        int fd = open(a1, O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) FAIL("open");
        memset(block, 'x', sizeof block);
        for (size_t done = 0; done < n;) {
            ssize_t w = write(fd, block, n - done < CHUNK ? n - done : CHUNK);
            if (w <= 0) { close(fd); FAIL("write"); }
            done += (size_t)w;
        }
        volatile char *p = map_fd(fd, n, PROT_READ);
        close(fd);
        if (p == NULL) FAIL("mmap");
        long page = sysconf(_SC_PAGESIZE);
        unsigned sum = 0;
        for (size_t i = 0; i < n; i += (size_t)page) sum += (unsigned char)p[i];
        (void)sum;
        printf("{\"ok\":\"mapfile\",\"addr\":\"0x%" PRIxPTR "\",\"bytes\":%zu,\"path\":", (uintptr_t)p, n);
        print_json_string(a1);
        reply("}");
    } else if (!strcmp(cmd, "shm") || !strcmp(cmd, "devshm")) {
        int fd;
        if (!strcmp(cmd, "shm")) {
            fd = memfd_create("leakwatch-test", 0);
        } else {
            if (strchr(a1, '/') || shm_count == MAX_SHM) { reply("{\"error\":\"bad or too many shm names\"}"); return; }
            char *name = malloc(strlen(a1) + 2);
            sprintf(name, "/%s", a1);
            fd = shm_open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
            if (fd >= 0) shm_names[shm_count++] = name; else free(name);
        }
        if (fd < 0) FAIL(cmd);
        if (ftruncate(fd, (off_t)n) != 0) { close(fd); FAIL("ftruncate"); }
        void *p = map_fd(fd, n, PROT_READ | PROT_WRITE);
        close(fd);
        if (p == NULL) FAIL("mmap");
        memset(p, 0xab, n);
        reply("{\"ok\":\"%s\",\"addr\":\"0x%" PRIxPTR "\",\"bytes\":%zu}", cmd, (uintptr_t)p, n);
    }
}

int main(void) {
    char line[4096];
    atexit(unlink_shm);
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);   /* pin the threshold (no dynamic raise) */
    reply("{\"ready\":true,\"pid\":%d}", (int)getpid());
    while (fgets(line, sizeof line, stdin) != NULL) command(line);
    return 0;
}
