/* A bump allocator for cJSON's parse trees: one chunk reused from call to
   call, so that a parse costs no malloc in the steady state, and a tree is
   dropped all at once. cJSON is pointed at the arena of the calling thread
   through its global hooks only while mphybrid parses; at other times the
   hooks fall through to malloc and free. */
#ifndef MPH_ARENA_H
#define MPH_ARENA_H

#include <stddef.h>
#include "buf.h"

typedef struct mph_chunk mph_chunk;

typedef struct mph_arena {
  mph_chunk *head;  /* the chunk being filled; older ones follow */
  mph_alloc_fn alloc;
  void *ud;
} mph_arena;

void mph_arena_init(mph_arena *a, mph_alloc_fn alloc, void *ud);
/* An arena of one chunk over size bytes at mem (16-byte aligned, more
   than MPH_ARENA_HEADER) that never grows: past it, allocation fails. */
void mph_arena_init_fixed(mph_arena *a, void *mem, size_t size);
#define MPH_ARENA_HEADER 32
/* Room for `bytes` more in one chunk; 0 on success, -1 out of memory. */
int mph_arena_reserve(mph_arena *a, size_t bytes);
void *mph_arena_alloc(mph_arena *a, size_t n);
/* Bytes handed out since the last reset. */
size_t mph_arena_used(const mph_arena *a);
/* Forgets every allocation; keeps the newest chunk unless it is larger
   than keep_max bytes. */
void mph_arena_reset(mph_arena *a, size_t keep_max);
void mph_arena_free(mph_arena *a);
int mph_arena_owns(const mph_arena *a, const void *p);

/* Installs cJSON's hooks once per process. */
void mph_arena_hook_cjson(void);
/* Routes cJSON's allocations on this thread to a (NULL: back to malloc). */
void mph_arena_use(mph_arena *a);

#endif
