// alloc MIB [hold]: allocates MIB mebibytes and writes to every page, so the memory
// is really charged to the caller's cgroup, then prints "allocated MIB MiB" and exits
// 0, or with "hold" keeps the memory until it is killed. Over a memory.max it is
// OOM-killed (SIGKILL) before it gets there; it prints its progress every 16 MiB so a
// log shows how far it came.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
    const int hold = argc == 3 && strcmp(argv[2], "hold") == 0;
    if (argc != 2 && !hold) {
        fprintf(stderr, "usage: alloc MIB [hold]\n");
        return 2;
    }
    char* end = NULL;
    long mib = strtol(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0' || mib <= 0 || mib > 65536) {
        fprintf(stderr, "alloc: bad size %s\n", argv[1]);
        return 2;
    }
    const long page = sysconf(_SC_PAGESIZE);
    const size_t chunk = 1024 * 1024;
    for (long i = 0; i < mib; i++) {
        // One malloc per MiB and never freed: nothing can be given back before the end.
        char* p = malloc(chunk);
        if (p == NULL) {
            fprintf(stderr, "alloc: malloc failed after %ld MiB\n", i);
            return 1;
        }
        for (size_t off = 0; off < chunk; off += (size_t)page)
            p[off] = (char)(i + 1);
        if ((i + 1) % 16 == 0) {
            printf("alloc: %ld MiB touched\n", i + 1);
            fflush(stdout);
        }
    }
    printf("allocated %ld MiB\n", mib);
    fflush(stdout);
    while (hold)
        pause();
    return 0;
}
