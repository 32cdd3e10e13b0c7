#include "readers/v8/devtools_rules.hpp"

#include <bit>
#include <unordered_map>

namespace heapscope::readers::v8 {

std::size_t BitSet::count() const {
  std::size_t n = 0;
  for (const std::uint64_t w : words_) n += static_cast<std::size_t>(std::popcount(w));
  return n;
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// DevTools matches these names with a JavaScript regular expression whose
// `.` does not match line terminators.
bool has_line_terminator(std::string_view s) {
  return s.find('\n') != std::string_view::npos || s.find('\r') != std::string_view::npos ||
         s.find("\xE2\x80\xA8") != std::string_view::npos || s.find("\xE2\x80\xA9") != std::string_view::npos;
}

// Does s end with " @<digits>" (at least one digit)?
bool ends_with_at_id(std::string_view s) {
  std::size_t i = s.size();
  while (i > 0 && is_digit(s[i - 1])) --i;
  return i < s.size() && i >= 2 && s.substr(i - 2, 2) == " @";
}

}  // namespace

std::optional<std::uint64_t> weakmap_table_id(std::string_view s) {
  constexpr std::string_view kKey = " / part of key (";
  constexpr std::string_view kValue = ") -> value (";
  constexpr std::string_view kTable = " pair in WeakMap (table @";
  std::size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i == 0 || s.substr(i, kKey.size()) != kKey) return std::nullopt;
  i += kKey.size();
  // The table id: the digits before the final ')'.
  if (s.empty() || s.back() != ')') return std::nullopt;
  const std::size_t digits_end = s.size() - 1;
  std::size_t digits_begin = digits_end;
  while (digits_begin > i && is_digit(s[digits_begin - 1])) --digits_begin;
  if (digits_begin == digits_end || digits_begin < i + kTable.size()) return std::nullopt;
  if (s.substr(digits_begin - kTable.size(), kTable.size()) != kTable) return std::nullopt;
  // Between: "<k> @<id>) -> value (<v> @<id>)".
  const std::string_view middle = s.substr(i, digits_begin - kTable.size() - i);
  if (has_line_terminator(middle) || middle.empty() || middle.back() != ')') return std::nullopt;
  const std::string_view pair = middle.substr(0, middle.size() - 1);
  if (!ends_with_at_id(pair)) return std::nullopt;
  for (std::size_t pos = pair.find(kValue); pos != std::string_view::npos; pos = pair.find(kValue, pos + 1)) {
    if (ends_with_at_id(pair.substr(0, pos)) && ends_with_at_id(pair.substr(pos + kValue.size()))) {
      std::uint64_t id = 0;
      for (std::size_t d = digits_begin; d < digits_end; ++d) {
        const auto digit = static_cast<std::uint64_t>(s[d] - '0');
        id = id > (UINT64_MAX - digit) / 10 ? UINT64_MAX : id * 10 + digit;
      }
      return id;
    }
  }
  return std::nullopt;
}

namespace {

class Rules {
 public:
  explicit Rules(Snapshot& s) : s_(s), m_(s.meta), n_(static_cast<std::uint32_t>(s.node_count())) {}

  // In DevTools' order, but the shallow sizes moved after the rules that
  // read names (none reads a shallow size): their owners array is the
  // rules' biggest, so names_read() can free the names before it is made.
  Retention run(const std::function<void()>& names_read) {
    Retention r;
    r.detached = propagate_dom_state();
    const BitSet page = page_owned_nodes();
    r.page_owned = page.count();
    r.retaining = essential_edges(page);
    if (names_read) names_read();
    r.transferred_sizes = transfer_shallow_sizes();
    find_unreached(r);
    return r;
  }

 private:
  std::uint32_t begin(std::uint32_t node) const { return s_.first_edge[node]; }
  std::uint32_t end(std::uint32_t node) const { return s_.first_edge[node + 1]; }
  bool type_is(std::uint32_t node, std::uint8_t type) const { return s_.node_type[node] == type; }

  // DevTools' propagateDOMState: embedder (native) nodes with a known state
  // pass it on to native nodes they reach over non-hidden, non-weak edges;
  // attached wins. Detached nodes get a "Detached " name prefix.
  BitSet propagate_dom_state() {
    BitSet detached(n_);
    if (s_.detachedness.empty()) return detached;
    BigVector<std::uint8_t>& state = s_.detachedness;
    BitSet visited(n_);
    std::vector<std::uint32_t> attached_work, detached_work;
    auto process = [&](std::uint32_t node, std::uint8_t new_state) {
      if (visited.test(node)) return;
      visited.set(node);
      if (!type_is(node, m_.t_native)) return;  // the state does not flow through JavaScript objects
      state[node] = new_state;
      if (new_state == 1) {
        attached_work.push_back(node);
      } else if (new_state == 2) {
        detached.set(node);
        detached_work.push_back(node);
      }
    };
    auto propagate = [&](std::uint32_t node, std::uint8_t new_state) {
      for (std::uint32_t e = begin(node); e < end(node); ++e) {
        const std::uint8_t t = s_.edge_type[e];
        if (t == m_.e_hidden || t == m_.e_weak) continue;
        process(s_.edge_to[e], new_state);
      }
    };
    for (std::uint32_t node = 0; node < n_; ++node) {
      if (state[node] != 0) process(node, state[node]);
    }
    while (!attached_work.empty()) {
      const std::uint32_t node = attached_work.back();
      attached_work.pop_back();
      propagate(node, 1);
    }
    while (!detached_work.empty()) {
      const std::uint32_t node = detached_work.back();
      detached_work.pop_back();
      if (state[node] == 1) continue;
      propagate(node, 2);
    }
    return detached;
  }

  // DevTools' calculateShallowSizes: a hidden or array node that only one
  // other node reaches (through hidden/array nodes, over non-weak edges)
  // hands its self size to that owner, unless the owner is synthetic.
  // Skipped for snapshots without user roots ("expose internals" ones).
  std::uint64_t transfer_shallow_sizes() {
    bool user_roots = false;
    for (std::uint32_t e = begin(s_.root); e < end(s_.root); ++e) {
      if (!type_is(s_.edge_to[e], m_.t_synthetic)) user_roots = true;
    }
    if (!user_roots) return 0;
    constexpr std::uint32_t kUnvisited = 0xFFFFFFFFu, kMultiple = 0xFFFFFFFEu;
    BigVector<std::uint32_t> owner(n_);  // a big array: reused memory, see BigVector
    for (std::uint32_t node = 0; node < n_; ++node) {
      owner[node] = type_is(node, m_.t_hidden) || type_is(node, m_.t_array) ? kUnvisited : node;
    }
    // A least fixpoint over (unvisited < one owner < several owners): the
    // order nodes are taken in does not change it. Each owner in node order,
    // then what its change of ownership reaches, depth first: the stack
    // holds only hidden and array nodes whose owner changed (each at most
    // twice), where a list of every owner to start from was 20 MB of the
    // read's peak for 5M nodes.
    BigVector<std::uint32_t> changed;
    auto propagate = [&](std::uint32_t node) {
      const std::uint32_t from = owner[node];
      for (std::uint32_t e = begin(node); e < end(node); ++e) {
        if (s_.edge_type[e] == m_.e_weak) continue;
        const std::uint32_t target = s_.edge_to[e];
        const std::uint32_t current = owner[target];
        if (current == kUnvisited) {
          owner[target] = from;
          changed.push_back(target);
        } else if (current != target && current != from && current != kMultiple) {
          owner[target] = kMultiple;
          changed.push_back(target);
        }
      }
    };
    for (std::uint32_t node = 0; node < n_; ++node) {
      if (owner[node] != node) continue;
      propagate(node);
      while (!changed.empty()) {
        const std::uint32_t next = changed.back();
        changed.pop_back();
        propagate(next);
      }
    }
    std::uint64_t moved = 0;
    for (std::uint32_t node = 0; node < n_; ++node) {
      const std::uint32_t o = owner[node];
      if (o == kUnvisited || o == kMultiple || o == node) continue;
      if (o == s_.root || type_is(o, m_.t_synthetic)) continue;
      s_.self_size.set(o, s_.self_size[o] + s_.self_size[node]);
      s_.self_size.set(node, 0);
      ++moved;
    }
    return moved;
  }

  // DevTools' markPageOwnedNodes: everything reachable over non-weak edges
  // from the root's shortcut targets (the global objects / Windows) and its
  // "(Document DOM trees)" element.
  BitSet page_owned_nodes() const {
    BitSet flag(n_);
    std::vector<std::uint32_t> work;
    for (std::uint32_t e = begin(s_.root); e < end(s_.root); ++e) {
      const std::uint32_t target = s_.edge_to[e];
      const std::uint8_t t = s_.edge_type[e];
      const bool entry = t == m_.e_shortcut ||
                         (t == m_.e_element && type_is(target, m_.t_synthetic) &&
                          s_.string(s_.node_name[target]) == "(Document DOM trees)");
      if (!entry) continue;
      flag.set(target);
      work.push_back(target);
    }
    while (!work.empty()) {
      const std::uint32_t node = work.back();
      work.pop_back();
      for (std::uint32_t e = begin(node); e < end(node); ++e) {
        const std::uint32_t target = s_.edge_to[e];
        if (flag.test(target) || s_.edge_type[e] == m_.e_weak) continue;
        flag.set(target);
        work.push_back(target);
      }
    }
    return flag;
  }

  // DevTools' computeIsEssentialEdge.
  BitSet essential_edges(const BitSet& page) {
    BitSet essential(s_.edge_count());
    // Per string: 0 not looked at, 1 not an ephemeron name, 2 one (id in map).
    std::vector<std::uint8_t> looked(s_.string_count(), 0);
    std::unordered_map<std::uint32_t, std::uint64_t> table_ids;
    auto table_of = [&](std::uint32_t name) -> std::optional<std::uint64_t> {
      if (looked[name] == 0) {
        const auto id = weakmap_table_id(s_.string(name));
        looked[name] = id ? 2 : 1;
        if (id) table_ids[name] = *id;
      }
      if (looked[name] == 1) return std::nullopt;
      return table_ids[name];
    };
    for (std::uint32_t node = 0; node < n_; ++node) {
      const bool from_root = node == s_.root;
      const bool node_page = page.test(node);
      for (std::uint32_t e = begin(node); e < end(node); ++e) {
        const std::uint8_t t = s_.edge_type[e];
        const std::uint32_t target = s_.edge_to[e];
        if (t == m_.e_weak || target == node) continue;
        if (t == m_.e_internal) {
          // The WeakMap table's edge to a value: the key's twin edge retains it.
          const auto table = table_of(s_.edge_name[e]);
          if (table && *table == s_.object_id[node + 1]) continue;
        }
        if (!from_root) {
          // Shortcuts mark user roots only where they leave the root.
          if (t == m_.e_shortcut) continue;
          // Debugger / handle references into the page do not retain it.
          if (page.test(target) && !node_page) continue;
        }
        essential.set(e);
      }
    }
    return essential;
  }

  // DevTools' dominator pass starts a DFS at the root, then one at every
  // unreached node without essential retainers, and gives whatever is left
  // the root as parent without a DFS (so their edges decide nothing).
  void find_unreached(Retention& r) const {
    BitSet reached(n_);
    std::vector<std::uint32_t> work;
    auto dfs = [&](std::uint32_t start) {
      reached.set(start);
      work.push_back(start);
      while (!work.empty()) {
        const std::uint32_t node = work.back();
        work.pop_back();
        for (std::uint32_t e = begin(node); e < end(node); ++e) {
          const std::uint32_t target = s_.edge_to[e];
          if (!r.retaining.test(e) || reached.test(target)) continue;
          reached.set(target);
          work.push_back(target);
        }
      }
    };
    dfs(s_.root);
    if (reached.count() == n_) return;  // the usual case: no orphans, no cliques
    BitSet retained(n_);
    for (std::uint32_t e = 0; e < s_.edge_count(); ++e) {
      if (r.retaining.test(e)) retained.set(s_.edge_to[e]);
    }
    for (std::uint32_t node = 0; node < n_; ++node) {
      if (reached.test(node) || retained.test(node)) continue;
      r.orphans.push_back(node);
      dfs(node);
    }
    for (std::uint32_t node = 0; node < n_; ++node) {
      if (reached.test(node)) continue;
      r.cliques.push_back(node);
      for (std::uint32_t e = begin(node); e < end(node); ++e) r.retaining.reset(e);
    }
  }

  Snapshot& s_;
  const Meta& m_;
  const std::uint32_t n_;
};

}  // namespace

Retention apply_devtools_rules(Snapshot& snapshot, const std::function<void()>& names_read) {
  return Rules(snapshot).run(names_read);
}

}  // namespace heapscope::readers::v8
