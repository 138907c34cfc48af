// spinner SECONDS [THREADS]: prints "spinning" (flushed) once started, burns CPU on
// THREADS threads (default 1) for SECONDS of wall-clock time (fractions allowed), then
// prints the CPUs it was allowed on
// ("affinity=0-1" from sched_getaffinity) and the CPUs it was seen running on
// ("ran_on=1"), and exits 0.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double g_seconds;
static unsigned long long g_seen;  // bit i: observed running on CPU i (i < 64)
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void* spin(void* arg) {
    (void)arg;
    unsigned long long seen = 0;
    double end = now() + g_seconds;
    volatile unsigned long sink = 0;
    while (now() < end) {
        for (int i = 0; i < 100000; i++)
            sink += (unsigned long)i;
        int cpu = sched_getcpu();
        if (cpu >= 0 && cpu < 64)
            seen |= 1ULL << cpu;
    }
    pthread_mutex_lock(&g_lock);
    g_seen |= seen;
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

static void printSet(const char* label, unsigned long long bits) {
    printf("%s=", label);
    int first = 1;
    for (int i = 0; i < 64; i++) {
        if (bits & (1ULL << i)) {
            printf(first ? "%d" : ",%d", i);
            first = 0;
        }
    }
    printf("\n");
}

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: spinner SECONDS [THREADS]\n");
        return 2;
    }
    g_seconds = strtod(argv[1], NULL);
    int threads = argc == 3 ? atoi(argv[2]) : 1;
    if (g_seconds <= 0 || threads <= 0 || threads > 64) {
        fprintf(stderr, "spinner: bad arguments\n");
        return 2;
    }
    pthread_t tids[64];
    printf("spinning\n");
    fflush(stdout);
    for (int i = 0; i < threads; i++)
        pthread_create(&tids[i], NULL, spin, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(tids[i], NULL);
    cpu_set_t set;
    CPU_ZERO(&set);
    unsigned long long allowed = 0;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        for (int i = 0; i < 64; i++) {
            if (CPU_ISSET(i, &set))
                allowed |= 1ULL << i;
        }
    }
    printSet("affinity", allowed);
    printSet("ran_on", g_seen);
    return 0;
}
