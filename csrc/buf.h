/* A growable byte buffer over a caller-supplied allocator (lua_Alloc shape),
   or a fixed one over memory the caller owns. */
#ifndef MPH_BUF_H
#define MPH_BUF_H

#include <stddef.h>
#include <string.h>

typedef void *(*mph_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef struct mph_buf {
  char *p;
  size_t len, cap;
  mph_alloc_fn alloc;
  void *ud;
} mph_buf;

void mph_buf_init(mph_buf *b, mph_alloc_fn alloc, void *ud);
/* A buffer over cap bytes at mem (not NULL) that never grows: a write
   past cap fails as out of memory. */
static inline void mph_buf_init_fixed(mph_buf *b, void *mem, size_t cap) {
  b->p = (char *)mem;
  b->len = 0;
  b->cap = cap;
  b->alloc = NULL;
  b->ud = NULL;
}
void mph_buf_free(mph_buf *b);
/* Makes room for `extra` more bytes; 0 on success, -1 when out of memory. */
int mph_buf_grow(mph_buf *b, size_t extra);

/* Never leaves p NULL, so that p + len is always a valid pointer. */
static inline int mph_buf_reserve(mph_buf *b, size_t extra) {
  return (b->p && b->cap - b->len >= extra) ? 0 : mph_buf_grow(b, extra);
}

static inline int mph_buf_put(mph_buf *b, const void *s, size_t n) {
  if (mph_buf_reserve(b, n)) return -1;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  return 0;
}

static inline int mph_buf_putc(mph_buf *b, char c) {
  if (mph_buf_reserve(b, 1)) return -1;
  b->p[b->len++] = c;
  return 0;
}

#endif
