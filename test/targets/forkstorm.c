/*
 * Live-test target for `run --children` on a fork storm: every 100 ms it forks FORKS children (argv[1], default 10:
 * 100 new processes a second), each of which lives LIFE_MS (argv[2], default 500) and exits; the parent reaps them.
 * A fixed number of forks per tick, so the count of processes started depends on the ticks, not on timing luck.
 * Runs until killed. Build: gcc -O0 -o forkstorm forkstorm.c
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int forks = argc > 1 ? atoi(argv[1]) : 10;
    int life_ms = argc > 2 ? atoi(argv[2]) : 500;
    printf("{\"ready\":true,\"pid\":%d}\n", (int)getpid());
    fflush(stdout);
    for (;;) {
        for (int i = 0; i < forks; i++) {
            pid_t pid = fork();
            if (pid == 0) {
                usleep((useconds_t)life_ms * 1000);
                _exit(0);
            }
        }
        usleep(100 * 1000);
        while (waitpid(-1, NULL, WNOHANG) > 0) {}
    }
}
