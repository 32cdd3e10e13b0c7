#include "heapscope/id_column.hpp"

#include <stdexcept>

namespace heapscope {

void IdColumn::push_back(std::uint64_t id) {
  if (!runs_) {
    plain_.push_back(id);
    return;
  }
  tail_[size_ & kBlockMask] = id;
  ++size_;
  if (id > max_) max_ = id;
  if ((size_ & kBlockMask) == 0) close_block();
}

void IdColumn::close_block() {
  // Steps are compared as unsigned differences (mod 2^64), which is also
  // how operator[] adds them back: a run is exact whatever the ids.
  const std::uint64_t step = tail_[1] - tail_[0];
  bool regular = step < kIrregularBit;
  for (std::size_t i = 2; regular && i < kBlockSize; ++i) regular = tail_[i] - tail_[i - 1] == step;
  block_first_.push_back(tail_[0]);
  if (regular) {
    block_code_.push_back(static_cast<std::uint32_t>(step));
    return;
  }
  const std::size_t ordinal = irregular_.size() >> kBlockBits;
  if (ordinal >= kIrregularBit) throw std::length_error("IdColumn: too many irregular blocks");
  block_code_.push_back(kIrregularBit | static_cast<std::uint32_t>(ordinal));
  for (const std::uint64_t value : tail_) irregular_.push_back(value);
}

void IdColumn::reserve(std::size_t n) {
  if (!runs_) {
    plain_.reserve(n);
    return;
  }
  block_first_.reserve(n >> kBlockBits);
  block_code_.reserve(n >> kBlockBits);
}

void IdColumn::set(std::size_t i, std::uint64_t id) {
  if (runs_) throw std::logic_error("IdColumn::set on a column of runs");
  plain_.set(i, id);
}

void IdColumn::resize(std::size_t n) {
  if (runs_) throw std::logic_error("IdColumn::resize on a column of runs");
  plain_.resize(n);
}

}  // namespace heapscope
