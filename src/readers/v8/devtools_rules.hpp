#pragma once
// Chrome DevTools' retention rules, applied to a parsed snapshot so that
// heapscope's generic dominator computation gives DevTools' retained sizes.
// docs/v8.md states the rules and why this reproduces DevTools exactly.
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "readers/v8/v8_snapshot.hpp"

namespace heapscope::readers::v8 {

class BitSet {
 public:
  explicit BitSet(std::size_t n = 0) : words_((n + 63) / 64, 0) {}
  bool test(std::size_t i) const { return (words_[i >> 6] >> (i & 63)) & 1u; }
  void set(std::size_t i) { words_[i >> 6] |= std::uint64_t{1} << (i & 63); }
  void reset(std::size_t i) { words_[i >> 6] &= ~(std::uint64_t{1} << (i & 63)); }
  std::size_t count() const;

 private:
  std::vector<std::uint64_t> words_;
};

struct Retention {
  // Edges that retain (DevTools' "essential" edges, minus the edges leaving
  // unreached cliques, which DevTools' dominator pass never looks at).
  BitSet retaining;
  // Roots in DevTools' DFS order, after the synthetic root's own children:
  // unreached nodes without a retaining edge into them (node order), then
  // the nodes still unreached (node order).
  std::vector<std::uint32_t> orphans;
  std::vector<std::uint32_t> cliques;
  // Native nodes DevTools renames "Detached <name>".
  BitSet detached;
  std::uint64_t page_owned = 0;         // nodes flagged as owned by the page
  std::uint64_t transferred_sizes = 0;  // hidden/array nodes whose size moved to an owner
};

// Applies the rules; moves the self sizes of owned hidden/array nodes to
// their owner in snapshot.self_size (as DevTools' Summary shows them).
// names_read, when given, is called as soon as no rule will read the edge
// names (snapshot.edge_name) or the strings again, so a caller may free
// them before the rest of the rules run.
Retention apply_devtools_rules(Snapshot& snapshot, const std::function<void()>& names_read = {});

// The table id T of a WeakMap ephemeron edge name
// "<n> / part of key (<k> @<id>) -> value (<v> @<id>) pair in WeakMap (table @T)".
std::optional<std::uint64_t> weakmap_table_id(std::string_view edge_name);

}  // namespace heapscope::readers::v8
