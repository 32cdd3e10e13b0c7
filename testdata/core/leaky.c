// A C program with planted leaks for the core reader tests (tests/core/).
//
//   leaky ADDR_FILE
//
// Allocates, leaks and frees in known ways, writes one line per planted
// chunk to ADDR_FILE ("<kind> <hex user address> <tag> <usable size>", kind =
// anchored | leaked | free), prints "ready <pid>" on stdout and waits to be
// killed. It is the tests' oracle: it knows what it leaked.
//
// Rules that keep the expected answers exact:
// - no stdio after the frees (stdio would malloc and reuse freed chunks);
//   lines are formatted on the stack and written with write(2);
// - leaked pointers are never stored anywhere that stays live: they are
//   created in helper functions whose frames are dead (below rsp) when the
//   core is taken, and the stack is scrubbed before waiting.
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

enum {
  kSessions = 50,         // anchored list in g_sessions, each with a name buffer
  kSingletons = 20,       // dropped 200-byte buffers
  kChainLength = 10,      // dropped linked list
  kThreads = 2,           // each with its own arena
  kThreadAnchored = 30,   // per thread, anchored in g_thread_lists[i]
  kThreadLeaked = 12,     // per thread
  kBigBlocks = 1100,      // thread 2: 64 KiB blocks, more than one 64 MiB heap
  kCycle = 3,             // dropped ring: leaked, but every member is referenced
};

struct session {
  struct session* next;
  int id;
  char* name;
  char pad[40];
};

struct chain_node {
  struct chain_node* next;
  uint64_t payload[2];
};

struct session* g_sessions;                  // .bss: the anchored list
char* g_big;                                 // an mmapped chunk, anchored
void* g_big_refs[5];                         // unused slot keeps .bss busy
struct chain_node* g_thread_lists[kThreads];
void** g_blocks;                             // thread 2's big blocks
static int g_fd = -1;
static pthread_barrier_t g_ready;

static void record(const char* kind, const void* p, const char* tag) {
  char line[128];
  int n = snprintf(line, sizeof line, "%s %#lx %s %zu\n", kind, (unsigned long)(uintptr_t)p, tag,
                   malloc_usable_size((void*)p));
  if (write(g_fd, line, (size_t)n) != n) abort();
}

static void* must(void* p) {
  if (!p) abort();
  return p;
}

NOINLINE static void make_sessions(void) {
  for (int i = 0; i < kSessions; i++) {
    struct session* s = must(calloc(1, sizeof *s));
    char name[32];
    snprintf(name, sizeof name, "session-%d", i);
    s->name = must(strdup(name));
    s->id = i;
    s->next = g_sessions;
    g_sessions = s;
    record("anchored", s, "session");
    record("anchored", s->name, "session-name");
  }
}

NOINLINE static void make_singletons(void) {
  for (int i = 0; i < kSingletons; i++) {
    unsigned char* p = must(malloc(200));
    memset(p, 0x5a, 200);  // no pointers inside
    record("leaked", p, "singleton");
  }
}

NOINLINE static void make_chain(const char* tag, int length) {
  struct chain_node* head = NULL;
  for (int i = 0; i < length; i++) {
    struct chain_node* n = must(malloc(sizeof *n));
    n->next = head;
    n->payload[0] = n->payload[1] = 0x1111111111111111ull * (uint64_t)(i % 15 + 1);
    head = n;
    record("leaked", n, tag);
  }
}

NOINLINE static void make_cycle(void) {
  struct chain_node* first = must(malloc(sizeof *first));
  struct chain_node* last = first;
  record("leaked", first, "cycle");
  for (int i = 1; i < kCycle; i++) {
    struct chain_node* n = must(malloc(sizeof *n));
    n->payload[0] = n->payload[1] = 0;
    last->next = n;
    last = n;
    record("leaked", n, "cycle");
  }
  last->next = first;
}

// Handed to the final loop through a global that it clears: afterwards
// only register rbx of the main thread holds it.
static void* volatile g_handoff;

NOINLINE static void make_big(void) {
  g_big = must(malloc(4u << 20));  // above the mmap threshold
  memset(g_big, 0, 4u << 20);
  record("anchored", g_big, "big-mmapped");
  // Objects kept alive only by the mmapped buffer.
  for (int i = 0; i < 5; i++) {
    void* p = must(malloc(16));
    memset(p, 0x33, 16);
    memcpy(g_big + 4096 * (size_t)i, &p, sizeof p);
    record("anchored", p, "held-by-big");
  }
  char* lost = must(malloc(1u << 20));
  memset(lost, 0x44, 1u << 20);
  record("leaked", lost, "big-mmapped-lost");
}

// Frees that populate every kind of free list of the current arena. All
// chunks are allocated first, each followed by a kept 16-byte guard (so
// nothing coalesces), and no malloc runs after the frees except the one
// that sorts the unsorted bin, which is done before the tcache and fastbin
// frees (a large request would consolidate the fastbins). The guards are
// anchored through keep[].
NOINLINE static void make_free_chunks(void** keep, int* nkeep, const char* prefix, void (*before_small_frees)(void)) {
  char tag[64];
  static const size_t tsizes[4] = {24, 100, 500, 1000};
  void* t[4][3];
  void* f[12];
  void* sm[10];
  void* lg[4];
  void* u[2];
  for (int s = 0; s < 4; s++) {
    for (int i = 0; i < 3; i++) {
      t[s][i] = must(malloc(tsizes[s]));
      keep[(*nkeep)++] = must(malloc(16));
    }
  }
  for (int i = 0; i < 12; i++) {
    f[i] = must(malloc(40));
    keep[(*nkeep)++] = must(malloc(16));
  }
  for (int i = 0; i < 10; i++) {
    sm[i] = must(malloc(256));
    keep[(*nkeep)++] = must(malloc(16));
  }
  for (int i = 0; i < 4; i++) {
    lg[i] = must(malloc(3000));
    keep[(*nkeep)++] = must(malloc(16));
  }
  for (int i = 0; i < 2; i++) {
    u[i] = must(malloc(2000));
    keep[(*nkeep)++] = must(malloc(16));
  }
  // Small and large bins: 7 of the 0x110 chunks fill their tcache bin, the
  // other 3 and the 3000-byte ones (too big for tcache) go to the unsorted
  // bin, and a request nothing fits sorts them into their bins.
  snprintf(tag, sizeof tag, "%s-small-256", prefix);
  for (int i = 0; i < 10; i++) {
    record("free", sm[i], tag);
    free(sm[i]);
  }
  snprintf(tag, sizeof tag, "%s-large-3000", prefix);
  for (int i = 0; i < 4; i++) {
    record("free", lg[i], tag);
    free(lg[i]);
  }
  keep[(*nkeep)++] = must(malloc(5000));
  if (before_small_frees) before_small_frees();
  // tcache: 3 chunks of 4 sizes.
  for (int s = 0; s < 4; s++) {
    snprintf(tag, sizeof tag, "%s-tcache-%zu", prefix, tsizes[s]);
    for (int i = 0; i < 3; i++) {
      record("free", t[s][i], tag);
      free(t[s][i]);
    }
  }
  // fastbins: 12 frees of one fast size fill its tcache bin (7), the other
  // 5 go to the fastbin.
  snprintf(tag, sizeof tag, "%s-fast-40", prefix);
  for (int i = 0; i < 12; i++) {
    record("free", f[i], tag);
    free(f[i]);
  }
  // Two that stay in the unsorted bin.
  snprintf(tag, sizeof tag, "%s-unsorted-2000", prefix);
  for (int i = 0; i < 2; i++) {
    record("free", u[i], tag);
    free(u[i]);
  }
}

static void record_kept(void** keep, int nkeep, const char* tag) {
  for (int i = 0; i < nkeep; i++) record("anchored", keep[i], tag);
}

// Overwrites the dead stack below the caller so no stale pointer survives.
NOINLINE static void scrub_stack(void) {
  volatile char junk[32768];
  memset((char*)junk, 0, sizeof junk);
}

// Thread 2's blocks fill more than one 64 MiB heap; every tenth is freed
// (64 KiB chunks: unsorted bin).
static void free_some_blocks(void) {
  for (int i = 0; i < kBigBlocks; i++) {
    if (i % 10 == 3) {
      record("free", g_blocks[i], "thread2-block");
      free(g_blocks[i]);
      g_blocks[i] = NULL;
    } else {
      record("anchored", g_blocks[i], "thread2-block");
    }
  }
}

NOINLINE static void thread_allocate(int index) {
  char tag[32];
  snprintf(tag, sizeof tag, "thread%d-list", index + 1);
  for (int i = 0; i < kThreadAnchored; i++) {
    struct chain_node* n = must(malloc(sizeof *n));
    n->payload[0] = n->payload[1] = 0;
    n->next = g_thread_lists[index];
    g_thread_lists[index] = n;
    record("anchored", n, tag);
  }
  snprintf(tag, sizeof tag, "thread%d-leak", index + 1);
  make_chain(tag, kThreadLeaked);
  if (index == 1) {
    g_blocks = must(calloc(kBigBlocks, sizeof *g_blocks));
    record("anchored", g_blocks, "block-array");
    for (int i = 0; i < kBigBlocks; i++) {
      g_blocks[i] = must(malloc(64 * 1024));
      memset(g_blocks[i], 0, 64);
    }
  }
  // Free lists of this thread's arena and tcache. keep[] is anchored
  // through the list head's payload (a pointer inside a heap object).
  void** keep = must(calloc(64, sizeof *keep));
  int nkeep = 0;
  g_thread_lists[index]->payload[0] = (uint64_t)(uintptr_t)keep;
  snprintf(tag, sizeof tag, "thread%d", index + 1);
  make_free_chunks(keep, &nkeep, tag, index == 1 ? free_some_blocks : NULL);
  record("anchored", keep, "thread-keep-array");
  record_kept(keep, nkeep, "thread-keep");
}

static void* thread_main(void* arg) {
  int index = (int)(intptr_t)arg;
  // An object only this frame (the thread's stack) holds.
  void* volatile on_stack = must(malloc(72));
  record("anchored", on_stack, index == 0 ? "thread1-stack" : "thread2-stack");
  thread_allocate(index);
  scrub_stack();
  pthread_barrier_wait(&g_ready);
  // Wait with the callee-saved registers cleared: stale heap pointers left
  // in them would be roots.
  __asm__ volatile(
      "xor %%ebx, %%ebx\n xor %%r12d, %%r12d\n xor %%r13d, %%r13d\n"
      "xor %%r14d, %%r14d\n xor %%r15d, %%r15d\n"
      "1: mov $34, %%eax\n syscall\n jmp 1b\n" ::: "rax", "rbx", "r12", "r13", "r14", "r15", "rcx", "r11", "memory");
  return (void*)on_stack;
}

NOINLINE static void main_allocate(void) {
  make_sessions();
  make_singletons();
  make_chain("chain", kChainLength);
  make_cycle();
  g_handoff = must(malloc(48));
  record("anchored", g_handoff, "register-rbx");
  make_big();
  // A freed mmapped chunk is gone from the address space. (Allocated
  // before the frees below: a large request would consolidate fastbins.)
  void* m = must(malloc(600 * 1024));
  void** keep = must(calloc(64, sizeof *keep));
  int nkeep = 0;
  make_free_chunks(keep, &nkeep, "main", NULL);
  record("anchored", keep, "main-keep-array");
  record_kept(keep, nkeep, "main-keep");
  g_big_refs[0] = keep;
  record("free", m, "freed-mmapped");
  free(m);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: leaky ADDR_FILE\n");
    return 2;
  }
  g_fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (g_fd < 0) return 2;
  pthread_barrier_init(&g_ready, NULL, kThreads + 1);
  // Threads first: their creation mallocs in the main arena (TLS vectors)
  // before any planted free, so no planted free chunk is reused.
  pthread_t threads[kThreads];
  for (int i = 0; i < kThreads; i++) {
    if (pthread_create(&threads[i], NULL, thread_main, (void*)(intptr_t)i) != 0) return 3;
    // One at a time, so each thread gets its own new arena in order.
    usleep(20000);
  }
  main_allocate();
  scrub_stack();
  pthread_barrier_wait(&g_ready);
  char line[64];
  int n = snprintf(line, sizeof line, "ready %d\n", (int)getpid());
  close(g_fd);
  void* held = g_handoff;
  g_handoff = NULL;
  // Say ready and wait, with the object in rbx and the other callee-saved
  // registers cleared (pause(2) directly: no libc frame keeps a copy).
  __asm__ volatile(
      "mov %[held], %%rbx\n xor %%r12d, %%r12d\n xor %%r13d, %%r13d\n"
      "xor %%r14d, %%r14d\n xor %%r15d, %%r15d\n"
      "mov $1, %%eax\n mov $1, %%edi\n mov %[buf], %%rsi\n mov %[len], %%rdx\n syscall\n"
      "1: mov $34, %%eax\n syscall\n jmp 1b\n"
      :
      : [held] "r"(held), [buf] "r"(line), [len] "r"((long)n)
      : "rax", "rbx", "rdi", "rsi", "rdx", "r12", "r13", "r14", "r15", "rcx", "r11", "memory");
  return 0;
}
