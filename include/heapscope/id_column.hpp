#pragma once
// A column of object ids, held either plainly (a U64Column) or as runs.
//
// Runs: V8 numbers the objects of a snapshot as it meets them, 2 apart, so
// node n's id is nearly always node n-1's plus 2 (a 1M-node Node snapshot:
// 69 breaks in a million ids). Each block of 64 ids is then kept as its
// first id and the step between neighbours, and only the blocks whose
// steps differ keep all 64 ids: about 0.2 bytes an id instead of 4 (a
// 5M-node snapshot: 1 MB instead of 20, through the read and the whole
// analysis). A column of ids with no such pattern (addresses, in cores and
// Python dumps) takes 4-8 bytes an id plus 0.2 in runs, so readers of
// those keep the plain column.
//
// The plain column can be built any way a U64Column can; the runs only by
// appending.
#include <array>
#include <cstddef>
#include <cstdint>

#include "heapscope/big_vector.hpp"
#include "heapscope/u64_column.hpp"

namespace heapscope {

class IdColumn {
 public:
  // An empty plain column.
  IdColumn() = default;
  explicit IdColumn(U64Column&& plain) : plain_(std::move(plain)) {}
  // An empty column of runs.
  static IdColumn runs() {
    IdColumn column;
    column.runs_ = true;
    return column;
  }

  bool is_runs() const { return runs_; }
  std::size_t size() const { return runs_ ? size_ : plain_.size(); }
  bool empty() const { return size() == 0; }
  // Whether every id fits 32 bits.
  bool fits_32_bits() const { return runs_ ? max_ <= 0xFFFFFFFFu : plain_.is_narrow(); }

  std::uint64_t operator[](std::size_t i) const {
    if (!runs_) return plain_[i];
    const std::size_t block = i >> kBlockBits;
    const std::size_t at = i & kBlockMask;
    if (block >= block_code_.size()) return tail_[at];
    const std::uint32_t code = block_code_[block];
    if ((code & kIrregularBit) != 0) return irregular_[(std::size_t{code & ~kIrregularBit} << kBlockBits) + at];
    return block_first_[block] + std::uint64_t{code} * at;
  }

  void push_back(std::uint64_t id);
  // The plain column's: ids already appended keep their place. For runs,
  // only the per-block arrays are reserved.
  void reserve(std::size_t n);
  // Plain columns only (std::logic_error for runs).
  void set(std::size_t i, std::uint64_t id);
  void resize(std::size_t n);

 private:
  static constexpr unsigned kBlockBits = 6;
  static constexpr std::size_t kBlockSize = std::size_t{1} << kBlockBits;
  static constexpr std::size_t kBlockMask = kBlockSize - 1;
  // A block's code: the step between its ids (below this bit), or this bit
  // and the block's place among the irregular ones.
  static constexpr std::uint32_t kIrregularBit = 0x80000000u;
  // The full block in tail_ laid down as a run or as 64 ids.
  void close_block();

  bool runs_ = false;
  U64Column plain_;
  std::size_t size_ = 0;
  std::uint64_t max_ = 0;
  U64Column block_first_;                 // per closed block: its first id
  BigVector<std::uint32_t> block_code_;   // per closed block
  U64Column irregular_;                   // the irregular blocks' ids, 64 each
  std::array<std::uint64_t, kBlockSize> tail_{};  // the ids past the last closed block
};

}  // namespace heapscope
