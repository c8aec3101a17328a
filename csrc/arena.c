#include "arena.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <cjson/cJSON.h>

#define ALIGN 16
#define ROUND_UP(n) (((n) + (ALIGN - 1)) & ~(size_t)(ALIGN - 1))
#define MIN_CHUNK 4096

struct mph_chunk {
  mph_chunk *next;
  size_t size, used; /* of the data that follows the header */
};

#define HEADER ROUND_UP(sizeof(mph_chunk))
#define DATA(c) ((char *)(c) + HEADER)
_Static_assert(HEADER <= MPH_ARENA_HEADER, "MPH_ARENA_HEADER holds a chunk header");

void mph_arena_init(mph_arena *a, mph_alloc_fn alloc, void *ud) {
  a->head = NULL;
  a->alloc = alloc;
  a->ud = ud;
}

void mph_arena_init_fixed(mph_arena *a, void *mem, size_t size) {
  mph_chunk *c = (mph_chunk *)mem;
  c->next = NULL;
  c->size = size - HEADER;
  c->used = 0;
  a->head = c;
  a->alloc = NULL;
  a->ud = NULL;
}

static mph_chunk *new_chunk(mph_arena *a, size_t size) {
  mph_chunk *c;
  if (a->alloc == NULL || size > (size_t)-1 - HEADER) return NULL;
  c = (mph_chunk *)a->alloc(a->ud, NULL, 0, HEADER + size);
  if (c == NULL) return NULL;
  c->size = size;
  c->used = 0;
  c->next = a->head;
  a->head = c;
  return c;
}

int mph_arena_reserve(mph_arena *a, size_t bytes) {
  size_t size;
  if (a->head && a->head->size - a->head->used >= bytes) return 0;
  size = a->head ? a->head->size * 2 : MIN_CHUNK;
  if (size < bytes) size = bytes;
  return new_chunk(a, size) ? 0 : -1;
}

void *mph_arena_alloc(mph_arena *a, size_t n) {
  void *p;
  if (n > (size_t)-1 - ALIGN) return NULL;
  n = ROUND_UP(n ? n : 1);
  if (!(a->head && a->head->size - a->head->used >= n) && mph_arena_reserve(a, n)) return NULL;
  p = DATA(a->head) + a->head->used;
  a->head->used += n;
  return p;
}

size_t mph_arena_used(const mph_arena *a) {
  const mph_chunk *c;
  size_t used = 0;
  for (c = a->head; c; c = c->next) used += c->used;
  return used;
}

void mph_arena_reset(mph_arena *a, size_t keep_max) {
  mph_chunk *c, *next;
  if (a->head == NULL) return;
  if (a->alloc == NULL) { /* fixed: one chunk, not ours to free */
    a->head->used = 0;
    return;
  }
  for (c = a->head->next; c; c = next) {
    next = c->next;
    a->alloc(a->ud, c, HEADER + c->size, 0);
  }
  a->head->next = NULL;
  a->head->used = 0;
  if (a->head->size > keep_max) {
    a->alloc(a->ud, a->head, HEADER + a->head->size, 0);
    a->head = NULL;
  }
}

void mph_arena_free(mph_arena *a) {
  mph_arena_reset(a, 0);
}

int mph_arena_owns(const mph_arena *a, const void *p) {
  const mph_chunk *c;
  for (c = a->head; c; c = c->next)
    if ((const char *)p >= DATA(c) && (const char *)p < DATA(c) + c->size) return 1;
  return 0;
}

/* initial-exec: a plain load, not a __tls_get_addr call per allocation */
static __thread mph_arena *current __attribute__((tls_model("initial-exec")));

static void *hook_malloc(size_t n) {
  return current ? mph_arena_alloc(current, n) : malloc(n);
}

static void hook_free(void *p) {
  if (current && mph_arena_owns(current, p)) return;
  free(p);
}

static pthread_once_t hooked = PTHREAD_ONCE_INIT;
static int did_hook;

static void hook(void) {
  cJSON_Hooks h;
  did_hook = 1;
  h.malloc_fn = hook_malloc;
  h.free_fn = hook_free;
  cJSON_InitHooks(&h);
}

void mph_arena_hook_cjson(void) {
  pthread_once(&hooked, hook);
}

/* When this library is unloaded, cJSON must not keep calling into it. */
__attribute__((destructor)) static void unhook(void) {
  if (did_hook) cJSON_InitHooks(NULL);
}

void mph_arena_use(mph_arena *a) {
  current = a;
}
