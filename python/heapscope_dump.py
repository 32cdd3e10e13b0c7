"""heapscope_dump: write a live CPython process's heap as a heapscope graph.

One stdlib-only file (CPython 3.8 to 3.13): copy it next to your code or put
its folder on PYTHONPATH. Then `heapscope analyze FILE` says what holds the
memory. See docs/python-dumper.md.

    import heapscope_dump
    heapscope_dump.dump("heap.json.gz")                      # now
    heapscope_dump.install_signal_handler(signal.SIGUSR2,
                                          "/tmp/heap-{pid}-{time}.json.gz")
    python -m heapscope_dump --out heap.json.gz --at-exit script.py args...

What is written (docs/graph-format.md): one node per object found from
gc.get_objects() and, transitively, their referents (untracked str, int,
tuples and dicts included); named edges where the name is cheap and certain
(dict keys, list/tuple indices, __slots__, attributes, closure variables);
weakref.ref targets as weak edges; roots for every module, every thread's
frames and every object whose reference count is larger than the
references the dump found ("external": held by C code or a leaked count).

The dump leaves out its own frames and bookkeeping, and avoids reading
__dict__ or f_locals (which create objects on 3.11+): attribute names of
instances whose dict is not materialised are recovered from the names the
class's methods store (STORE_ATTR), never by calling code on the object.
"""
import collections
import gc
import gzip
import json
import os
import sys
import threading
import time
import types
import weakref
from array import array

if sys.version_info[:2] in ((3, 11), (3, 12)):
    # Imported with the dumper, not during a dump (that would add modules
    # to the heap being described): _FastLocalsReader needs it.
    import ctypes as _ctypes
else:
    _ctypes = None

__all__ = ["dump", "install_signal_handler"]

FORMAT_VERSION = 1
PRODUCER = "heapscope_dump.py 1"
_THIS_FILE = os.path.normcase(os.path.abspath(__file__.replace(".pyc", ".py")))
# Reference counts at or above this are immortal objects (3.12+): their
# count says nothing about who holds them.
_IMMORTAL_REFCOUNT = 1 << 29
_MAX_NAME = 60
_KEY_NAME_CACHE = 100000
# 3.11+ may keep instance attributes as inline values instead of a __dict__.
_INLINE_VALUES = sys.version_info >= (3, 11)
_CO_OPTIMIZED = 0x1  # code flag of function bodies (fast locals)
# The C string encoder behind json.dumps, without its per-call overhead.
_json_string = getattr(json.encoder, "c_encode_basestring_ascii", None) or json.encoder.encode_basestring_ascii


class _FastLocalsReader(object):
    """The fast locals of a running frame on CPython 3.11 and 3.12, read
    from the interpreter frame's memory with ctypes.

    There, the gc does not list what a running frame's locals hold, and
    frame.f_locals would store a new dict in the frame (the dump must not
    change the heap it describes). The layouts are CPython's
    _PyInterpreterFrame (Include/internal/pycore_frame.h); every frame is
    checked first (its interpreter frame must point back at its code object
    and at the frame object itself, and be owned by a thread or a
    generator), and anything unexpected means "no locals", never a guess."""

    # version -> (offset of f_code, of frame_obj, of owner, of localsplus)
    # in _PyInterpreterFrame, 64-bit builds.
    _LAYOUTS = {(3, 11): (32, 40, 69, 72), (3, 12): (0, 48, 70, 72)}
    _FRAME_F_FRAME = 24  # PyFrameObject.f_frame: after ob_refcnt, ob_type, f_back
    _OWNED_BY_THREAD, _OWNED_BY_GENERATOR = 0, 1

    def __init__(self):
        self.layout = None
        if sys.implementation.name != "cpython" or sys.maxsize != 2 ** 63 - 1:
            return
        if _ctypes is not None:
            self.layout = self._LAYOUTS.get(sys.version_info[:2])
            self.ctypes = _ctypes

    def locals(self, frame):
        """[(name, value)] of frame's fast locals (cells and free variables
        included, unset ones left out), or None when they cannot be read."""
        if self.layout is None:
            return None
        ctypes = self.ctypes
        code = frame.f_code
        if not code.co_flags & _CO_OPTIMIZED:
            return None
        code_at, frame_at, owner_at, locals_at = self.layout
        iframe = ctypes.c_void_p.from_address(id(frame) + self._FRAME_F_FRAME).value
        if not iframe:
            return None
        specials = (ctypes.c_void_p * (locals_at // 8)).from_address(iframe)
        if specials[code_at // 8] != id(code) or specials[frame_at // 8] != id(frame):
            return None
        owner = ctypes.c_ubyte.from_address(iframe + owner_at).value
        if owner not in (self._OWNED_BY_THREAD, self._OWNED_BY_GENERATOR):
            return None
        varnames = code.co_varnames
        names = list(varnames) + [c for c in code.co_cellvars if c not in varnames] + list(code.co_freevars)
        slots = (ctypes.c_void_p * len(names)).from_address(iframe + locals_at)
        result = []
        for name, address in zip(names, slots):
            if address:
                result.append((name, ctypes.cast(address, ctypes.py_object).value))
        return result


def _short_repr(value, limit=_MAX_NAME):
    if type(value) is str and len(value) > limit:
        value = value[:limit]  # a huge string's repr would be as big as the string
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _TypeInfo(object):
    """What the dump needs to know about one type, computed once per type."""

    __slots__ = ("json_name", "slot_names", "attr_names")

    def __init__(self, cls):
        module = getattr(cls, "__module__", None) or "builtins"
        qualname = getattr(cls, "__qualname__", None) or cls.__name__
        name = qualname if module == "builtins" else module + "." + qualname
        self.json_name = json.dumps(name)
        self.slot_names = []
        self.attr_names = []
        seen_attrs = set()
        for klass in getattr(cls, "__mro__", ()):
            namespace = klass.__dict__
            slots = namespace.get("__slots__", ())
            if isinstance(slots, str):
                slots = (slots,)
            for slot in slots:
                descriptor = namespace.get(slot)
                if isinstance(descriptor, types.MemberDescriptorType):
                    self.slot_names.append((slot, descriptor))
            # Attribute names the methods assign (self.x = ...): candidates
            # to name edges of instances without a materialised __dict__.
            for member in namespace.values():
                code = getattr(member, "__code__", None)
                if isinstance(code, types.CodeType):
                    for attr in code.co_names:
                        if attr not in seen_attrs and attr not in namespace:
                            seen_attrs.add(attr)
                            self.attr_names.append(attr)
        # An attribute name that is a descriptor anywhere in the MRO would run
        # code when read: keep only plain instance attributes.
        self.attr_names = [a for a in self.attr_names
                           if not any(a in k.__dict__ for k in getattr(cls, "__mro__", ()))]


class _Dumper(object):
    def __init__(self, out):
        self.out = out
        self.seen = {}          # id -> object: keeps every dumped object alive and unique
        self.in_degree = {}     # id -> strong references found inside the dump
        self.work = []
        self.type_info = {}
        self.hints = {}         # id(closure tuple) -> free variable names
        self.key_names = {}     # str dict key -> its edge name (repr), for repeated keys
        self.fast_locals = _FastLocalsReader()
        self.private = set()
        self.node_count = 0
        # The strong edges, kept compactly (8 bytes each) to find which
        # objects the named roots reach: node i's children are
        # child_ids[child_start[i]:child_start[i + 1]].
        self.index = {}
        self.child_ids = array("Q")
        self.child_start = array("Q", [0])
        self.sites = _site_function()

    # -- what an object references, with names ------------------------------
    def edges(self, obj):
        """(child, name or None, weak) for every reference of obj."""
        cls = type(obj)
        if isinstance(obj, dict):
            # Walked here, not with gc.get_referents: the gc skips str keys.
            result = []
            key_names = self.key_names
            for key, value in dict.items(obj):
                result.append((key, "<key>", False))
                name = key_names.get(key) if type(key) is str else None
                if name is None:
                    name = _short_repr(key)
                    # Attribute and field names repeat in every instance dict:
                    # remember the repr of short str keys (boundedly).
                    if type(key) is str and len(key_names) < _KEY_NAME_CACHE:
                        key_names[key] = name
                result.append((value, name, False))
            if cls is dict:
                return result
            listed = set(id(child) for child, _, _ in result)
            for referent in gc.get_referents(obj):
                if id(referent) not in listed:
                    result.append((referent, "__dict__" if type(referent) is dict else None, False))
            return result
        if cls is list or cls is tuple:
            names = self.hints.pop(id(obj), None)
            if names is not None and len(names) == len(obj):
                return [(item, names[i], False) for i, item in enumerate(obj)]
            return [(item, "[%d]" % i, False) for i, item in enumerate(obj)]
        referents = gc.get_referents(obj)
        names = {}
        if cls is types.FunctionType:
            for attr in ("__code__", "__globals__", "__defaults__", "__kwdefaults__",
                         "__closure__", "__dict__", "__module__", "__name__", "__qualname__"):
                try:
                    names.setdefault(id(getattr(obj, attr)), attr)
                except AttributeError:
                    pass
        elif cls is types.ModuleType:
            names[id(obj.__dict__)] = "__dict__"
        elif isinstance(obj, type):
            namespace = _type_namespace(obj, referents)
            if namespace is not None:
                names[id(namespace)] = "__dict__"
            names.setdefault(id(obj.__mro__), "__mro__")
            names.setdefault(id(obj.__bases__), "__bases__")
        elif cls is types.MethodType:
            names[id(obj.__self__)] = "__self__"
            names.setdefault(id(obj.__func__), "__func__")
        elif cls is types.FrameType:
            return self.frame_edges(obj, referents)
        elif cls is types.CodeType:
            # Code objects have no tp_traverse: the gc lists none of their
            # references, and their constants would look held from outside.
            return _code_edges(obj)
        else:
            info = self.info(cls)
            for slot, descriptor in info.slot_names:
                try:
                    names.setdefault(id(descriptor.__get__(obj, cls)), slot)
                except AttributeError:
                    pass
            # A materialised instance dict is among the referents (inline
            # values, 3.11+, are listed one by one instead).
            dicts = [r for r in referents if type(r) is dict]
            # Up to 3.10 that dict is the instance's __dict__ and holds the
            # attributes (named by key there): reading them here would name
            # nothing. From 3.11 the attributes may be inline values, and a
            # lone dict may be one of them: named by attribute first.
            if info.attr_names and (_INLINE_VALUES or len(dicts) != 1) and not names.get(id(cls)):
                for attr in info.attr_names:
                    try:
                        value = object.__getattribute__(obj, attr)
                    except Exception:
                        continue
                    names.setdefault(id(value), attr)
            if len(dicts) == 1:  # two (lru_cache's cache and __dict__): not certain
                names.setdefault(id(dicts[0]), "__dict__")
        names.setdefault(id(cls), "__class__")
        result = []
        cell_type = getattr(types, "CellType", None)
        for referent in referents:
            if cell_type is not None and cls is cell_type:
                result.append((referent, "cell_contents", False))
            else:
                result.append((referent, names.get(id(referent)), False))
        if isinstance(obj, weakref.ref):
            target = obj()
            if target is not None:
                result.append((target, "<weakref>", True))
        return result

    def frame_edges(self, frame, referents):
        """A frame's references, its local variables named.

        3.13+: f_locals is a transient proxy over the fast locals (it creates
        nothing that stays), so the locals come with their names; the gc
        does not list a running frame's locals at all. Up to 3.12 reading
        f_locals would store a new dict in the frame: on 3.11 and 3.12 the
        locals are read from the interpreter frame (_FastLocalsReader), on
        3.8-3.10 they are the gc's unnamed referents."""
        result = [(r, None, False) for r in referents]
        fast_locals = self.fast_locals.locals(frame)
        if fast_locals is not None:
            listed = set(id(r) for r in referents)
            for name, value in fast_locals:
                if id(value) not in listed:
                    result.append((value, name, False))
                    listed.add(id(value))
            return result
        if sys.version_info >= (3, 13):
            listed = set(id(r) for r in referents)
            local_variables = frame.f_locals
            if not frame.f_code.co_flags & _CO_OPTIMIZED:
                # Module and class bodies: f_locals is the namespace dict
                # itself (a module frame's is the module's __dict__).
                if id(local_variables) not in listed:
                    result.append((local_variables, "f_locals", False))
                return result
            for name, value in local_variables.items():
                if id(value) in listed:
                    result = [(r, name if r is value and n is None else n, w) for r, n, w in result]
                else:
                    result.append((value, name, False))
                    listed.add(id(value))
        return result

    def info(self, cls):
        info = self.type_info.get(cls)
        if info is None:
            info = self.type_info[cls] = _TypeInfo(cls)
        return info

    # -- the walk -------------------------------------------------------------
    def add(self, obj):
        key = id(obj)
        if key not in self.seen and key not in self.private:
            self.seen[key] = obj
            self.work.append(obj)

    def walk(self):
        # The hot loop: attributes bound to locals, leaves (objects that
        # reference nothing) written without the edge machinery, output
        # batched.
        out = self.out
        work, seen, private, in_degree = self.work, self.seen, self.private, self.in_degree
        index, child_ids, child_start = self.index, self.child_ids, self.child_start
        leaf_types = _LEAF_TYPES
        type_json = {}
        sites = self.sites
        # Counter's C helper counts a list into a dict; Counter.update
        # itself would run an ABC check that caches new weakrefs mid-walk.
        count_into = getattr(collections, "_count_elements", None) or _count_elements
        batch = []
        count = self.node_count
        while work:
            obj = work.pop()
            cls = type(obj)
            index[id(obj)] = count
            if cls in leaf_types and sites is None:
                name = type_json.get(cls)
                if name is None:
                    name = type_json[cls] = self.info(cls).json_name
                label = _leaf_label(obj, cls)
                batch.append('{"id":%d,"type":%s,"size":%d%s}' % (
                    id(obj), name, sys.getsizeof(obj), ',"name":' + _json_string(label) if label is not None else ""))
                child_start.append(len(child_ids))
            else:
                strong, strong_names, weak = [], [], []
                for child, name, is_weak in self.edges(obj):
                    child_id = id(child)
                    if child_id in private:
                        continue
                    if child_id not in seen:
                        seen[child_id] = child
                        work.append(child)
                    if is_weak:
                        weak.append(child_id)
                    else:
                        strong.append(child_id)
                        strong_names.append(name)
                count_into(in_degree, strong)
                child_ids.extend(strong)
                child_start.append(len(child_ids))
                batch.append(self.node_json(obj, strong, strong_names, weak))
            count += 1
            if len(batch) >= 4096:
                out.write(("," if count > len(batch) else "") + ",\n".join(batch))
                del batch[:]
        if batch:
            out.write(("," if count > len(batch) else "") + ",\n".join(batch))
        self.node_count = count

    def reached_from(self, root_ids):
        """bytearray: 1 for each node index that root_ids reach over strong edges."""
        index, child_ids, child_start = self.index, self.child_ids, self.child_start
        reached = bytearray(self.node_count)
        stack = [index[r] for r in root_ids if r in index]
        for i in stack:
            reached[i] = 1
        while stack:
            i = stack.pop()
            for child in child_ids[child_start[i]:child_start[i + 1]]:
                j = index.get(child)
                if j is not None and not reached[j]:
                    reached[j] = 1
                    stack.append(j)
        return reached

    def node_json(self, obj, strong, strong_names, weak):
        cls = type(obj)
        parts = ['{"id":%d,"type":%s,"size":%d' % (id(obj), self.info(cls).json_name, _sizeof(obj))]
        label = _label(obj, cls)
        if label is not None:
            parts.append(',"name":' + _json_string(label))
        if strong:
            parts.append(',"refs":[' + ",".join(map(str, strong)) + "]")
            if any(n is not None for n in strong_names):
                # Not json.dumps: its Python-level set-up costs more than
                # encoding these few short names.
                parts.append(',"ref_names":[' + ",".join(
                    ["null" if n is None else _json_string(n) for n in strong_names]) + "]")
        if weak:
            parts.append(',"weak_refs":[' + ",".join(map(str, weak)) + "]")
        if self.sites is not None:
            site = self.sites(obj)
            if site:
                parts.append(',"site":' + _json_string(site))
        parts.append("}")
        return "".join(parts)


def _site_function():
    """tracemalloc's allocation site of an object ("file.py:88"), when tracing."""
    try:
        import tracemalloc
    except ImportError:
        return None
    if not tracemalloc.is_tracing():
        return None

    def site(obj):
        traceback = tracemalloc.get_object_traceback(obj)
        if not traceback:
            return None
        # Sorted oldest first since 3.7: the allocating line is the last.
        frame = traceback[-1] if sys.version_info >= (3, 7) else traceback[0]
        return "%s:%d" % (frame.filename, frame.lineno)

    return site


def _type_namespace(cls, referents):
    """The type's real __dict__ among its referents (cls.__dict__ is a fresh proxy)."""
    for referent in referents:
        if type(referent) is dict and ("__module__" in referent or "__doc__" in referent):
            return referent
    return None


def _sizeof(obj):
    try:
        return sys.getsizeof(obj)
    except Exception:
        return 0


def _count_elements(mapping, items):
    for item in items:
        mapping[item] = mapping.get(item, 0) + 1


# Types whose objects reference nothing (no tp_traverse).
_LEAF_TYPES = frozenset([str, int, float, bool, bytes, complex, type(None)])


def _leaf_label(obj, cls):
    if cls is str:
        return _short_repr(obj, 40)
    if cls is bytes:
        return None
    text = repr(obj)
    return text if len(text) <= 40 else None


# Fields a code object stores. co_varnames and co_code are left out: 3.11+
# builds them on first access and caches them, so reading them would change
# the heap being dumped. co_lnotab is stored before 3.10 only (computed and
# deprecated after).
_CODE_FIELDS = ("co_consts", "co_names", "co_filename", "co_name", "co_qualname", "co_linetable",
                "co_exceptiontable") + (("co_lnotab",) if sys.version_info < (3, 10) else ())


def _code_edges(code):
    result = []
    for field in _CODE_FIELDS:
        value = getattr(code, field, None)
        # A computed field gives another object each time: not stored.
        if value is not None and value is getattr(code, field, None):
            result.append((value, field, False))
    return result


def _label(obj, cls):
    if cls is str:
        return _short_repr(obj, 40)
    if cls is int or cls is float or cls is bool:
        text = repr(obj)
        return text if len(text) <= 40 else None
    if cls is types.ModuleType:
        return getattr(obj, "__name__", None)
    if cls is types.FunctionType or isinstance(obj, type):
        return getattr(obj, "__qualname__", None)
    if cls is types.CodeType:
        return "%s %s:%d" % (obj.co_name, obj.co_filename, obj.co_firstlineno)
    return None


def _own_frame(frame):
    return os.path.normcase(os.path.abspath(frame.f_code.co_filename)) == _THIS_FILE


def _thread_roots(dumper):
    roots = []
    names = {t.ident: t.name for t in threading.enumerate()}
    frames = sys._current_frames()
    try:
        for thread_id, frame in frames.items():
            thread = names.get(thread_id, "thread %d" % thread_id)
            depth = 0
            while frame is not None:
                if not _own_frame(frame):
                    code = frame.f_code
                    roots.append((frame, "thread %s frame %s() at %s:%d" % (
                        thread, code.co_name, code.co_filename, frame.f_lineno), "frame"))
                depth += 1
                frame = frame.f_back
    finally:
        del frames, frame
    return roots


def _write_graph(out, tracked_holder):
    # The tracked objects were listed before anything of the dump's own
    # existed (but its frames): what it creates from here on is reachable
    # only from its frames, which are private, so it never appears.
    tracked = tracked_holder.pop()
    dumper = _Dumper(out)
    private = dumper.private
    private.add(id(tracked))
    frame = sys._getframe()
    while frame is not None:
        if _own_frame(frame):
            private.add(id(frame))
        frame = frame.f_back
    out.write('{"format":"heapscope-graph","version":%d,"meta":%s,\n"nodes":[\n' % (FORMAT_VERSION, json.dumps({
        "producer": PRODUCER, "pid": os.getpid(), "python": sys.version.split()[0],
        "implementation": sys.implementation.name,
        # Reference counting frees all but cycles, and objects held by
        # counts the dump cannot explain are rooted: the rest is cycles.
        "unreachable_means": "cyclic-garbage",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})))

    roots = [(module, "module " + name, "module") for name, module in list(sys.modules.items())
             if module is not None]
    roots += _thread_roots(dumper)
    for obj, _, _ in roots:
        dumper.add(obj)
    function_type = types.FunctionType
    for obj in tracked:
        dumper.add(obj)
        # A closure tuple's items are named by the function's free
        # variables; the tuple may be walked before its function.
        if type(obj) is function_type and obj.__closure__ is not None:
            dumper.hints[id(obj.__closure__)] = obj.__code__.co_freevars
    del tracked, obj
    dumper.walk()
    out.write('\n],\n"roots":[\n')

    first = [True]

    def emit(obj_id, name, kind):
        out.write(("" if first[0] else ",\n") + json.dumps({"id": obj_id, "name": name, "kind": kind}))
        first[0] = False

    for obj, name, kind in roots:
        emit(id(obj), name, kind)
    reached = dumper.reached_from([id(obj) for obj, _, _ in roots])
    index = dumper.index
    obj = None
    del roots
    # The caches hold references to heap objects (slot descriptors, names).
    dumper.type_info.clear()
    dumper.hints.clear()
    # Objects held from outside what the dump sees, and that no named root
    # reaches (an alive object the modules and frames reach needs no extra
    # root; rooting it anyway would hide the chain that really holds it).
    # getrefcount's argument, the seen dict and the loop variable hold three
    # references.
    in_degree = dumper.in_degree
    seen = dumper.seen
    for obj_id in seen:
        if reached[index[obj_id]]:
            continue
        obj = seen[obj_id]
        count = sys.getrefcount(obj) - 3
        if count >= _IMMORTAL_REFCOUNT:
            # Immortal (3.12+): alive by definition, so never garbage.
            emit(obj_id, "immortal %s" % type(obj).__name__, "immortal")
            continue
        excess = count - in_degree.get(obj_id, 0)
        if excess > 0:
            emit(obj_id, "external (%d unseen reference%s) %s" % (
                excess, "" if excess == 1 else "s", type(obj).__name__), "external")
    out.write("\n]}\n")
    return dumper.node_count


def dump(path):
    """Writes the heap of this process to path (gzip when it ends in .gz).
    Returns the number of objects written."""
    opener = gzip.open if str(path).endswith(".gz") else open
    switch = sys.getswitchinterval()
    was_enabled = gc.isenabled()
    gc.disable()  # a collection mid-walk would free objects the walk has seen
    sys.setswitchinterval(1e6)  # other threads must not change the heap mid-walk
    try:
        tracked_holder = [gc.get_objects()]
        with opener(path, "wt", encoding="utf-8") as out:
            return _write_graph(out, tracked_holder)
    finally:
        sys.setswitchinterval(switch)
        if was_enabled:
            gc.enable()


def install_signal_handler(signum, path_pattern):
    """On signal signum, dump to path_pattern ({pid}, {time} are replaced)."""
    import signal

    def handler(_signum, _frame):
        path = path_pattern.format(pid=os.getpid(), time=time.strftime("%Y%m%d-%H%M%S"))
        count = dump(path)
        sys.stderr.write("heapscope_dump: %d objects written to %s\n" % (count, path))

    return signal.signal(signum, handler)


def _main(argv):
    import argparse
    parser = argparse.ArgumentParser(
        prog="python -m heapscope_dump",
        description="Run a Python script and write its heap as a heapscope graph when it ends.")
    parser.add_argument("--out", required=True, help="graph file to write (.gz: gzip)")
    parser.add_argument("--at-exit", action="store_true", required=True,
                        help="dump when the script finishes (or raises SystemExit)")
    parser.add_argument("script")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    # Like cProfile: the script runs as __main__ in a module that stays in
    # sys.modules, so its globals are still rooted when the dump is taken.
    with open(options.script, "rb") as source:
        code = compile(source.read(), options.script, "exec")
    main = types.ModuleType("__main__")
    main.__file__ = options.script
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    sys.argv = [options.script] + options.args
    sys.path.insert(0, os.path.dirname(os.path.abspath(options.script)))
    status = 0
    del parser
    gc.collect()  # the dumper's own garbage (argparse) must not show as the script's
    try:
        exec(code, main.__dict__)
    except SystemExit as stop:
        status = stop.code
    del code, source
    count = dump(options.out)
    sys.stderr.write("heapscope_dump: %d objects written to %s\n" % (count, options.out))
    return status


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
