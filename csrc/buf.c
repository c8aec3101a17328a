#include "buf.h"

void mph_buf_init(mph_buf *b, mph_alloc_fn alloc, void *ud) {
  b->p = NULL;
  b->len = b->cap = 0;
  b->alloc = alloc;
  b->ud = ud;
}

void mph_buf_free(mph_buf *b) {
  if (b->alloc == NULL) { /* fixed: the memory is not ours */
    b->len = 0;
    return;
  }
  if (b->p) b->alloc(b->ud, b->p, b->cap, 0);
  b->p = NULL;
  b->len = b->cap = 0;
}

int mph_buf_grow(mph_buf *b, size_t extra) {
  size_t need, cap;
  char *p;
  if (b->alloc == NULL || extra > (size_t)-1 - b->len) return -1;
  need = b->len + extra;
  cap = b->cap ? b->cap : 256;
  while (cap < need) {
    if (cap > (size_t)-1 / 2) { cap = need; break; }
    cap *= 2;
  }
  p = (char *)b->alloc(b->ud, b->p, b->cap, cap);
  if (p == NULL) return -1;
  b->p = p;
  b->cap = cap;
  return 0;
}
