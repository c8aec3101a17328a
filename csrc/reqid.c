#include "reqid.h"
#include "url.h"
#include "utf8.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>

#define HALF_BITS 20
#define HALF_MASK ((1u << HALF_BITS) - 1)
#define ROUNDS 4

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t round_keys[ROUNDS];
static uint64_t counter;

static void fill_random(void *p, size_t n) {
  unsigned char *b = (unsigned char *)p;
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(b + got, n - got, 0);
    if (r <= 0) break;
    got += (size_t)r;
  }
  if (got < n) { /* no getrandom: the kernel's pool through the file */
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r <= 0) break;
        got += (size_t)r;
      }
      close(fd);
    }
  }
  if (got < n) { /* last resort: time, pid and an address, mixed */
    struct timeval tv;
    uint64_t x;
    gettimeofday(&tv, NULL);
    x = ((uint64_t)tv.tv_sec * 1000003u) ^ (uint64_t)tv.tv_usec ^
        ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)p;
    for (; got < n; got++) {
      x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33;
      b[got] = (unsigned char)x;
    }
  }
}

static void rekey(void) {
  uint64_t start;
  fill_random(round_keys, sizeof round_keys);
  fill_random(&start, sizeof start);
  counter = start;
}

static void child_after_fork(void) {
  pthread_mutex_init(&lock, NULL);
  rekey();
}

static void init_once(void) {
  rekey();
  pthread_atfork(NULL, NULL, child_after_fork);
}

static uint32_t mix(uint32_t x, uint32_t k) {
  x ^= k;
  x *= 0x9E3779B1u;
  x ^= x >> 15;
  x *= 0x85EBCA77u;
  x ^= x >> 13;
  return x & HALF_MASK;
}

/* A bijection on 40 bits: a balanced Feistel network. */
static uint64_t permute(uint64_t v) {
  uint32_t l = (uint32_t)(v >> HALF_BITS) & HALF_MASK, r = (uint32_t)v & HALF_MASK;
  int i;
  for (i = 0; i < ROUNDS; i++) {
    uint32_t t = l ^ mix(r, round_keys[i]);
    l = r;
    r = t;
  }
  return ((uint64_t)l << HALF_BITS) | r;
}

static const char base36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

size_t mph_reqid_next(char *out) {
  uint64_t c, v;
  unsigned tail;
  int i;
  pthread_once(&once, init_once);
  pthread_mutex_lock(&lock);
  c = counter++;
  pthread_mutex_unlock(&lock);
  v = permute(c & ((1ULL << (2 * HALF_BITS)) - 1));
  for (i = 7; i >= 0; i--) { out[i] = base36[v % 36]; v /= 36; }
  tail = (unsigned)(c & 0xFF);
  if (tail < 36) { out[8] = base36[tail]; return 9; }
  out[8] = base36[tail / 36];
  out[9] = base36[tail % 36];
  return 10;
}

int mph_id_valid(const char *s, size_t n) {
  size_t i, a, b, bad;
  if (n == 0 || n > MPH_ID_MAX) return 0;
  for (i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F) return 0;
  /* a command's JSON is UTF-8: no other id or api name can come in one */
  if (!mph_utf8_valid((const unsigned char *)s, n, &bad)) return 0;
  mph_js_trim(s, n, &a, &b);
  return a == 0 && b == n;
}
