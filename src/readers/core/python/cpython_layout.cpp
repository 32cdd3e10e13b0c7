#include "readers/core/python/cpython_layout.hpp"

#include <array>
#include <cstring>

#include "heapscope/error.hpp"

namespace heapscope::readers::core::python {

namespace {

InputError unreadable(const std::string& what) { return InputError("CPython in this core: " + what, std::nullopt, "", "elf-core"); }

// "3.12" from ".../libpython3.12.so.1.0" or ".../python3.12": the minor, or -1.
int minor_from_path(const std::string& path) {
  const auto at = path.rfind("python3.");
  if (at == std::string::npos) return -1;
  int minor = 0;
  std::size_t i = at + 8, digits = 0;
  while (i < path.size() && path[i] >= '0' && path[i] <= '9' && digits < 3) minor = minor * 10 + (path[i++] - '0'), ++digits;
  return digits == 0 ? -1 : minor;
}

CpythonLayout layout_311() {
  CpythonLayout l;
  l.minor = 11;
  l.interpreters_head = 0x28;
  l.interp_threads_head = 0x10;
  l.interp_gc = 0x288;
  l.interp_modules = 0x378;
  l.interp_sysdict = 0x388;
  l.interp_builtins = 0x390;
  l.tstate_next = 0x8;
  l.tstate_thread_id = 0x98;
  l.tstate_cframe = 0x38;
  l.cframe_current_frame = 0x8;
  l.iframe_code = 0x20;
  l.iframe_previous = 0x30;
  l.iframe_localsplus = 0x48;
  l.iframe_owner = 0x45;
  l.iframe_instr = 0x38;
  l.code_firstlineno = 0x48;
  l.code_linetable = 0x88;
  l.code_adaptive = 0xb8;
  l.ht_qualname = 0x360;
  l.ht_cached_keys = 0x368;
  l.ascii_data = 48;
  l.compact_data = 72;
  l.dict_values_items = 0;
  return l;
}

CpythonLayout layout_312() {
  CpythonLayout l;
  l.minor = 12;
  l.interpreters_head = 0x28;
  l.interp_threads_head = 0x48;
  l.interp_gc = 0x70;
  l.interp_modules = 0x3b0;
  l.interp_sysdict = 0x160;
  l.interp_builtins = 0x168;
  l.tstate_next = 0x8;
  l.tstate_thread_id = 0x88;
  l.tstate_cframe = 0x38;
  l.cframe_current_frame = 0x0;
  l.iframe_code = 0x0;
  l.iframe_previous = 0x8;
  l.iframe_localsplus = 0x48;
  l.iframe_owner = 0x46;
  l.iframe_instr = 0x38;
  l.code_firstlineno = 0x44;
  l.code_linetable = 0x88;
  l.code_adaptive = 0xc0;
  l.ht_qualname = 0x368;
  l.ht_cached_keys = 0x370;
  l.ascii_data = 40;
  l.compact_data = 56;
  l.dict_values_items = 0;
  l.interp_static_types = 0x5b3c0;  // types.num_builtins_initialized, then builtins[200]
  l.static_type_state_size = 40;
  l.static_type_state_dict = 16;
  l.static_type_state_subclasses = 24;
  l.immortal_refcounts = true;
  l.interp_obmalloc = 0xf78;  // struct _obmalloc_state, inline (DWARF of 3.12.1)
  l.interp_interned = 0x5d7d8;
  return l;
}

// 3.13.0's _Py_DebugOffsets, as 64-bit words from the start of _PyRuntime:
// the index of each field we use. The table's own sanity fields (sizes and
// offsets of fixed layouts) are checked before any of it is used.
namespace debug_word {
constexpr std::size_t kVersion = 1, kFreeThreaded = 2, kInterpretersHead = 5, kThreadsHead = 9, kGc = 10,
                      kModules = 11, kSysdict = 12, kBuiltins = 13, kTstateNext = 21, kTstateCurrentFrame = 23,
                      kTstateThreadId = 24, kFramePrevious = 29, kFrameExecutable = 30, kFrameLocalsplus = 32,
                      kFrameInstrPtr = 31, kFrameOwner = 33, kCodeFilename = 35, kCodeName = 36,
                      kCodeQualname = 37, kCodeLinetable = 38, kCodeFirstlineno = 39, kCodeLocalsplusnames = 41,
                      kCodeAdaptive = 43, kObType = 45, kTpName = 47, kTpFlags = 49, kTupleItems = 51,
                      kListItems = 54, kDictKeys = 57, kDictValues = 58, kAsciiSize = 70;
constexpr std::size_t kCount = 71;
}  // namespace debug_word

CpythonLayout layout_313(const CoreImage& image, std::uint64_t runtime, std::string& version) {
  std::array<std::uint64_t, debug_word::kCount> w{};
  if (!image.read(runtime, w.data(), sizeof w)) throw unreadable("the _Py_DebugOffsets table at _PyRuntime is not in the core");
  if (std::memcmp(&w[0], "xdebugpy", 8) != 0) throw unreadable("no _Py_DebugOffsets cookie at _PyRuntime (not CPython 3.13+?)");
  const std::uint64_t hexversion = w[debug_word::kVersion];
  const int major = static_cast<int>(hexversion >> 24), minor = static_cast<int>((hexversion >> 16) & 0xff);
  version = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string((hexversion >> 8) & 0xff);
  if (major != 3 || minor != 13) throw unreadable("CPython " + version + " is not supported (3.11, 3.12, 3.13 are)");
  if (w[debug_word::kFreeThreaded] != 0) throw unreadable("free-threaded CPython " + version + " is not supported");
  using namespace debug_word;
  if (w[kObType] != 8 || w[kTpName] != 0x18 || w[kTpFlags] != 0xa8 || w[kTupleItems] != 0x18 || w[kListItems] != 0x18 ||
      w[kDictKeys] != 0x20 || w[kDictValues] != 0x28) {
    throw unreadable("the _Py_DebugOffsets table of CPython " + version + " does not have the expected layout");
  }
  CpythonLayout l;
  l.minor = 13;
  l.interpreters_head = w[kInterpretersHead];
  l.interp_threads_head = w[kThreadsHead];
  l.interp_gc = w[kGc];
  l.interp_modules = w[kModules];
  l.interp_sysdict = w[kSysdict];
  l.interp_builtins = w[kBuiltins];
  l.tstate_next = w[kTstateNext];
  l.tstate_thread_id = w[kTstateThreadId];
  l.tstate_current_frame = w[kTstateCurrentFrame];
  l.iframe_code = w[kFrameExecutable];
  l.iframe_previous = w[kFramePrevious];
  l.iframe_localsplus = w[kFrameLocalsplus];
  l.iframe_owner = w[kFrameOwner];
  l.code_filename = w[kCodeFilename];
  l.code_name = w[kCodeName];
  l.code_qualname = w[kCodeQualname];
  l.code_localsplusnames = w[kCodeLocalsplusnames];
  l.iframe_instr = w[kFrameInstrPtr];
  l.code_linetable = w[kCodeLinetable];
  l.code_firstlineno = w[kCodeFirstlineno];
  l.code_adaptive = w[kCodeAdaptive];
  l.ht_qualname = 0x368;
  l.ht_cached_keys = 0x370;
  l.ascii_data = w[kAsciiSize];
  l.compact_data = w[kAsciiSize] + 16;
  l.dict_values_items = 8;
  // Not in the debug offsets: 3.13.0's DWARF (types.builtins.num_initialized,
  // then initialized[200]); checked entry by entry on the core.
  l.interp_static_types = 0x2cab0;
  l.static_type_state_size = 48;
  l.static_type_state_dict = 24;
  l.static_type_state_subclasses = 32;
  l.immortal_refcounts = true;
  // Not in the debug offsets either: 3.13.0's DWARF (interp->obmalloc, a
  // pointer); the arena table it leads to is checked arena by arena.
  l.interp_obmalloc = 0x2a30;
  l.obmalloc_is_pointer = true;
  l.interp_interned = 0x2f718;
  return l;
}

}  // namespace

std::optional<CpythonRuntime> find_cpython(const CoreImage& image) {
  const auto runtime_symbol = image.find_symbol("_PyRuntime");
  if (!runtime_symbol) return std::nullopt;
  CpythonRuntime rt;
  rt.module = runtime_symbol->module->path;
  rt.runtime = runtime_symbol->address;
  const int minor = minor_from_path(rt.module);
  rt.version = minor >= 0 ? "3." + std::to_string(minor) : "?";
  if (minor == 11) {
    rt.layout = layout_311();
  } else if (minor == 12) {
    rt.layout = layout_312();
  } else if (minor >= 13 || minor < 0) {
    rt.layout = layout_313(image, rt.runtime, rt.version);
  } else {
    throw unreadable("CPython " + rt.version + " (" + rt.module + ") is not supported (3.11, 3.12, 3.13 are)");
  }
  const auto type_symbol = image.find_symbol("PyType_Type", runtime_symbol->module->name);
  if (!type_symbol) throw unreadable("no PyType_Type symbol in " + rt.module);
  rt.type_type = type_symbol->address;
  // type(type) is type: the layout's first check.
  if (image.u64(rt.type_type + 8) != rt.type_type) {
    throw unreadable("PyType_Type is not its own type in the core (" + rt.version + " build not readable)");
  }
  const auto interp = image.u64(rt.runtime + rt.layout.interpreters_head);
  if (!interp || *interp == 0) throw unreadable("no interpreter in _PyRuntime (" + rt.version + ")");
  rt.interp = *interp;
  return rt;
}

}  // namespace heapscope::readers::core::python
