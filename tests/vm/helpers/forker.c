// forker MAX: forks up to MAX children that wait for a signal, stops at the first
// failure, prints "forks_ok=N errno=NAME" (errno=none when all MAX succeeded),
// then kills and reaps its children and exits 0. Under pids.max=L in the caller's
// cgroup the kernel allows L-1 forks (the forker itself counts) and then fork()
// fails with EAGAIN.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* errnoName(int e) {
    switch (e) {
        case 0:
            return "none";
        case EAGAIN:
            return "EAGAIN";
        case ENOMEM:
            return "ENOMEM";
        default:
            return strerror(e);
    }
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: forker MAX\n");
        return 2;
    }
    long max = strtol(argv[1], NULL, 10);
    if (max <= 0 || max > 100000) {
        fprintf(stderr, "forker: bad count %s\n", argv[1]);
        return 2;
    }
    pid_t* kids = calloc((size_t)max, sizeof(pid_t));
    if (kids == NULL)
        return 1;
    long ok = 0;
    int err = 0;
    for (; ok < max; ok++) {
        pid_t pid = fork();
        if (pid < 0) {
            err = errno;
            break;
        }
        if (pid == 0) {
            pause();
            _exit(0);
        }
        kids[ok] = pid;
    }
    printf("forks_ok=%ld errno=%s\n", ok, errnoName(err));
    fflush(stdout);
    for (long i = 0; i < ok; i++)
        kill(kids[i], SIGKILL);
    for (long i = 0; i < ok; i++)
        waitpid(kids[i], NULL, 0);
    free(kids);
    return 0;
}
