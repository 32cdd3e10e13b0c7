/* bench/core: a process with N small allocations in linked lists anchored
 * in a global (default 2,000,000), for measuring the core reader's time and
 * memory per allocation. Run through testdata/core/make_core.py:
 *   python3 testdata/core/make_core.py bench/core/many_allocs.c OUTDIR N [--name NAME]
 * then: /usr/bin/time -v heapscope analyze OUTDIR/many_allocs.core */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct node { struct node* next; long payload[2]; };
struct node* g_lists[64];

int main(int argc, char** argv) {
  long count = argc > 2 ? atol(argv[2]) : 2000000;
  for (long i = 0; i < count; ++i) {
    struct node* n = malloc(sizeof *n);
    n->next = g_lists[i % 64];
    n->payload[0] = i;
    g_lists[i % 64] = n;
  }
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  pause();
  return 0;
}
