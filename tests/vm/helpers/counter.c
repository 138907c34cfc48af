// counter FILE PERIOD_MS [MIB]: the checkpointed workload of the VM tier. Appends
// "N MICROSECONDS\n" to FILE every PERIOD_MS, N counting up from 1 in memory (so a
// restore that lost the state would start again at 1). With MIB, first allocates
// that many mebibytes filled with a pattern and re-checks all of it before every
// line: memory that did not come back intact makes it append "CORRUPT N" and exit 3.
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: counter FILE PERIOD_MS [MIB]\n");
        return 2;
    }
    long period = strtol(argv[2], NULL, 10);
    long mib = argc == 4 ? strtol(argv[3], NULL, 10) : 0;
    if (period <= 0 || mib < 0 || mib > 4096) {
        fprintf(stderr, "counter: bad arguments\n");
        return 2;
    }
    size_t words = (size_t)mib * 1024 * 1024 / sizeof(uint64_t);
    uint64_t* mem = NULL;
    if (words > 0) {
        mem = malloc(words * sizeof(uint64_t));
        if (mem == NULL) {
            fprintf(stderr, "counter: malloc %ld MiB failed\n", mib);
            return 1;
        }
        for (size_t i = 0; i < words; i++)
            mem[i] = i * 2654435761u;
    }
    int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        perror("counter: open");
        return 1;
    }
    struct timespec nap = {period / 1000, (period % 1000) * 1000000L};
    for (long n = 1;; n++) {
        char line[64];
        for (size_t i = 0; i < words; i++) {
            if (mem[i] != i * 2654435761u) {
                int len = snprintf(line, sizeof line, "CORRUPT %ld\n", n);
                if (write(fd, line, (size_t)len) < 0)
                    return 1;
                return 3;
            }
        }
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        long long us = (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000;
        int len = snprintf(line, sizeof line, "%ld %lld\n", n, us);
        if (write(fd, line, (size_t)len) != len)
            return 1;
        nanosleep(&nap, NULL);
    }
}
