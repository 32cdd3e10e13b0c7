// A C++ program with planted leaks of polymorphic objects, for the core
// reader tests (tests/core/): allocations whose first word is a vtable
// pointer must get their class as type.
//
//   leaky_cpp ADDR_FILE
//
// Writes "<kind> <hex address> <tag> <usable size>" per planted allocation
// (kind = anchored | leaked | free; for objects with a vtable the tag is
// the class name heapscope must show), prints "ready <pid>", waits.
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#define NOINLINE __attribute__((noinline))

namespace {

int g_fd = -1;
pthread_barrier_t g_ready;

void record(const char* kind, const void* p, const char* tag) {
  char line[160];
  int n = std::snprintf(line, sizeof line, "%s %#lx %s %zu\n", kind, (unsigned long)(uintptr_t)p, tag,
                        malloc_usable_size(const_cast<void*>(p)));
  if (write(g_fd, line, (size_t)n) != n) std::abort();
}

}  // namespace

struct Base {
  virtual ~Base() = default;
  virtual int kind() const { return 0; }
  std::uint64_t serial = 0;
};

struct Session : Base {
  int kind() const override { return 1; }
  Session* next = nullptr;
  char* payload = nullptr;  // a plain malloc buffer owned by the session
};

struct Peer : Base {
  int kind() const override { return 2; }
  Peer* other = nullptr;
};

namespace app {
struct Widget : Base {
  int kind() const override { return 3; }
  double weight = 1.5;
  std::uint64_t pad[6] = {};
};
}  // namespace app

// Multiple inheritance: the allocation starts with the primary vtable.
struct Listener {
  virtual ~Listener() = default;
  virtual void notify() {}
};
struct Connection : Base, Listener {
  int kind() const override { return 4; }
  std::uint64_t fd = 7;
};

Session* g_sessions = nullptr;     // anchored list
std::vector<Base*> g_registry;    // anchored through its heap array
Base* g_stash[4];

NOINLINE static Session* new_session(const char* kind, std::uint64_t serial) {
  auto* s = new Session;
  s->serial = serial;
  s->payload = static_cast<char*>(std::malloc(100));
  std::memset(s->payload, 0x61, 100);
  record(kind, s, "Session");
  record(kind, s->payload, "session-payload");
  return s;
}

NOINLINE static void make_anchored() {
  for (int i = 0; i < 25; i++) {
    Session* s = new_session("anchored", i);
    s->next = g_sessions;
    g_sessions = s;
  }
  g_registry.reserve(64);
  record("anchored", g_registry.data(), "registry-array");
  for (int i = 0; i < 10; i++) {
    auto* w = new app::Widget;
    g_registry.push_back(w);
    record("anchored", w, "app::Widget");
  }
  auto* c = new Connection;
  g_stash[0] = c;
  record("anchored", c, "Connection");
}

NOINLINE static void make_leaks() {
  // Dropped sessions, each with its payload (referenced: not a head).
  for (int i = 0; i < 15; i++) new_session("leaked", 100 + i);
  // Dropped widgets.
  for (int i = 0; i < 8; i++) record("leaked", new app::Widget, "app::Widget");
  // Peers in pairs pointing at each other: cycles.
  for (int i = 0; i < 6; i++) {
    auto* a = new Peer;
    auto* b = new Peer;
    a->other = b;
    b->other = a;
    record("leaked", a, "Peer");
    record("leaked", b, "Peer");
  }
  for (int i = 0; i < 3; i++) record("leaked", new Connection, "Connection");
}

NOINLINE static void make_free() {
  // Deleted objects sit in tcache / fastbins: never nodes.
  for (int i = 0; i < 9; i++) {
    auto* w = new app::Widget;
    auto* p = new Peer;
    record("free", w, "deleted-widget");
    record("free", p, "deleted-peer");
    delete w;
    delete p;
  }
}

NOINLINE static void scrub_stack() {
  volatile char junk[32768];
  std::memset(const_cast<char*>(junk), 0, sizeof junk);
}

static void* thread_main(void*) {
  // A thread arena of its own: widgets leaked and kept there.
  for (int i = 0; i < 5; i++) record("leaked", new app::Widget, "app::Widget");
  auto* kept = new app::Widget;
  g_stash[1] = kept;
  record("anchored", kept, "app::Widget");
  scrub_stack();
  pthread_barrier_wait(&g_ready);
  __asm__ volatile(
      "xor %%ebx, %%ebx\n xor %%r12d, %%r12d\n xor %%r13d, %%r13d\n"
      "xor %%r14d, %%r14d\n xor %%r15d, %%r15d\n"
      "1: mov $34, %%eax\n syscall\n jmp 1b\n" ::: "rax", "rbx", "r12", "r13", "r14", "r15", "rcx", "r11", "memory");
  return nullptr;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: leaky_cpp ADDR_FILE\n");
    return 2;
  }
  g_fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (g_fd < 0) return 2;
  pthread_barrier_init(&g_ready, nullptr, 2);
  pthread_t thread;
  if (pthread_create(&thread, nullptr, thread_main, nullptr) != 0) return 3;
  make_anchored();
  make_leaks();
  make_free();
  scrub_stack();
  pthread_barrier_wait(&g_ready);
  char line[64];
  int n = std::snprintf(line, sizeof line, "ready %d\n", (int)getpid());
  close(g_fd);
  __asm__ volatile(
      "xor %%ebx, %%ebx\n xor %%r12d, %%r12d\n xor %%r13d, %%r13d\n"
      "xor %%r14d, %%r14d\n xor %%r15d, %%r15d\n"
      "mov $1, %%eax\n mov $1, %%edi\n mov %[buf], %%rsi\n mov %[len], %%rdx\n syscall\n"
      "1: mov $34, %%eax\n syscall\n jmp 1b\n"
      :
      : [buf] "r"(line), [len] "r"((long)n)
      : "rax", "rbx", "rdi", "rsi", "rdx", "r12", "r13", "r14", "r15", "rcx", "r11", "memory");
  return 0;
}
