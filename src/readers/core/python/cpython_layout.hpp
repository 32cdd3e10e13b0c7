#pragma once
// Where CPython 3.11, 3.12 and 3.13 keep what a core reader needs: struct
// offsets of the runtime, interpreter, thread and frame states and of the
// object layouts the graph follows. 3.13 offsets come from the
// _Py_DebugOffsets table at the start of _PyRuntime (read from the core);
// 3.11 and 3.12 from per-version tables, read off the DWARF of the pyenv
// builds (`gdb -batch -ex 'ptype /o PyCodeObject' libpython3.X.so`). Each is
// checked on the core (find_cpython) before it is trusted.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "readers/core/core_image.hpp"

namespace heapscope::readers::core::python {

struct CpythonLayout {
  int minor = 0;  // 11, 12, 13
  // _PyRuntime / PyInterpreterState
  std::uint64_t interpreters_head = 0;
  std::uint64_t interp_threads_head = 0;
  std::uint64_t interp_gc = 0;
  std::uint64_t interp_modules = 0;
  std::uint64_t interp_sysdict = 0;
  std::uint64_t interp_builtins = 0;
  // PyThreadState: 3.11/3.12 reach the frame through tstate->cframe.
  std::uint64_t tstate_next = 0;
  std::uint64_t tstate_thread_id = 0;
  std::uint64_t tstate_cframe = 0;         // 0 on 3.13
  std::uint64_t cframe_current_frame = 0;  // in _PyCFrame
  std::uint64_t tstate_current_frame = 0;  // 3.13
  // _PyInterpreterFrame
  std::uint64_t iframe_code = 0;
  std::uint64_t iframe_previous = 0;
  std::uint64_t iframe_localsplus = 0;
  std::uint64_t iframe_owner = 0;
  // The instruction the frame is at (3.11/3.12 prev_instr, 3.13 instr_ptr:
  // either points at the instruction being executed, a call for a caller).
  std::uint64_t iframe_instr = 0;
  // PyCodeObject
  std::uint64_t code_localsplusnames = 0x60;
  std::uint64_t code_filename = 0x70;
  std::uint64_t code_name = 0x78;
  std::uint64_t code_qualname = 0x80;
  // Line numbers: co_firstlineno (int), co_linetable (bytes), and where the
  // bytecode starts (co_code_adaptive; the type's tp_basicsize).
  // 0 where unknown: frames are then named without a line.
  std::uint64_t code_firstlineno = 0;
  std::uint64_t code_linetable = 0;
  std::uint64_t code_adaptive = 0;
  // Type objects
  std::uint64_t tp_name = 0x18, tp_basicsize = 0x20, tp_itemsize = 0x28, tp_flags = 0xa8, tp_dict = 0x108;
  std::uint64_t ht_qualname = 0, ht_cached_keys = 0;
  // str: where a compact ASCII / compact non-ASCII string's data begins.
  std::uint64_t ascii_data = 0, compact_data = 0;
  // Instance attributes (see cpython_objects.cpp, "instance attributes").
  std::uint64_t dict_values_items = 0;  // offset of values[] in PyDictValues: 0, or 8 on 3.13
  // 3.12+: static builtin types keep their dict (and subclasses) in the
  // interpreter, in a table of per-type states after a count word, not in
  // the type object. 0 when the type object has them (3.11).
  std::uint64_t interp_static_types = 0;  // the count word; entries follow it
  std::uint64_t static_type_state_size = 0, static_type_state_dict = 0, static_type_state_subclasses = 0;
  // Reference counts: 3.12+ keep immortal objects at a 32-bit count of ~0.
  bool immortal_refcounts = false;
  // pymalloc's arena table (struct _obmalloc_mgmt: `arenas`, `maxarenas`).
  // 3.11: file-static variables, found by name in the module's .symtab.
  // 3.12: in the interpreter (interp + interp_obmalloc); 3.13: the
  // interpreter holds a pointer to that state. 0: not known.
  std::uint64_t interp_obmalloc = 0;
  // The dict of interned strings (a root the interpreter holds from C):
  // 3.11 a file-static `interned` in .symtab (0 here), 3.12 and 3.13 a
  // pointer in the interpreter (cached_objects.interned_strings).
  std::uint64_t interp_interned = 0;
  bool obmalloc_is_pointer = false;
  std::uint64_t obmalloc_arenas = 0x200, obmalloc_maxarenas = 0x208;  // in struct _obmalloc_state
};

// The interpreter found in a core.
struct CpythonRuntime {
  CpythonLayout layout;
  std::string version;        // "3.12.1" style when known, else "3.12"
  std::string module;         // the file defining _PyRuntime
  // Its file name ("libpython3.12.so.1.0"): the hint for finding its symbols.
  std::string_view module_file() const { return std::string_view(module).substr(module.rfind('/') + 1); }
  std::uint64_t runtime = 0;  // &_PyRuntime
  std::uint64_t interp = 0;   // the main interpreter
  std::uint64_t type_type = 0;  // &PyType_Type
};

// The CPython interpreter in the core, or nullopt when the process was not
// Python. Throws InputError when it is Python but not a version or build
// heapscope can read (naming what was found).
std::optional<CpythonRuntime> find_cpython(const CoreImage& image);

}  // namespace heapscope::readers::core::python
