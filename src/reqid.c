/* Request ids: a random 64-bit key per process, mixed with a counter. */
#include "reqid.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static _Atomic uint64_t next;
static uint64_t key;

/* SplitMix64's finaliser (Steele, Lea, Flood: "Fast splittable
 * pseudorandom number generators", OOPSLA 2014): a bijection, so distinct
 * counters give distinct ids. */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void make_key(void)
{
    if (getrandom(&key, sizeof key, GRND_NONBLOCK) != (ssize_t)sizeof key) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        key = mix((uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 30) ^ ((uint64_t)getpid() << 20));
    }
}

static uint64_t process_key(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_key);
    return key;
}

static int printable(const char *s, size_t *len)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e || n == REQID_MAX)
            return 0;
    *len = n;
    return n > 0;
}

int reqid_take(const char *given, char out[REQID_MAX + 1])
{
    size_t n;
    if (given && printable(given, &n)) {
        memcpy(out, given, n + 1);
        return 1;
    }
    static const char hex[] = "0123456789abcdef";
    uint64_t k = process_key(), c = atomic_fetch_add(&next, 1);
    uint64_t words[2] = {mix(k ^ mix(c)), mix(k + (c + 1) * 0x9e3779b97f4a7c15u)};
    /* The first word alone is a bijection of the counter under a fixed
     * key: unique within the process. */
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < 16; i++)
            out[w * 16 + i] = hex[(words[w] >> (60 - 4 * i)) & 15];
    out[32] = '\0';
    return 0;
}
