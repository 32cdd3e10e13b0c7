#pragma once
// A column of 64-bit values (object ids, shallow sizes) held in 32 bits for
// as long as every value fits, as V8's node ids and nearly all object sizes
// do: 4 bytes a node instead of 8 (a 5M-node V8 snapshot: 40 MB less for the
// two columns, a 12M-allocation core 48 MB less for its sizes). The first
// value that needs more bits widens the column once (one copy, early for a
// column of addresses, which widens at its first entry); a column of 64-bit
// values a reader already has is adopted wide, without a copy.
#include <cstddef>
#include <cstdint>
#include <utility>

#include "heapscope/big_vector.hpp"

namespace heapscope {

class U64Column {
 public:
  U64Column() = default;
  explicit U64Column(BigVector<std::uint64_t>&& wide) : wide_(std::move(wide)), is_wide_(true) {}
  explicit U64Column(BigVector<std::uint32_t>&& narrow) : narrow_(std::move(narrow)) {}

  std::size_t size() const { return is_wide_ ? wide_.size() : narrow_.size(); }
  bool empty() const { return size() == 0; }
  // True while every value fits 32 bits (so the 32-bit array holds them).
  bool is_narrow() const { return !is_wide_; }
  const BigVector<std::uint32_t>& narrow_values() const { return narrow_; }

  std::uint64_t operator[](std::size_t i) const { return is_wide_ ? wide_[i] : narrow_[i]; }
  void prefetch(std::size_t i) const {
    if (is_wide_) {
      __builtin_prefetch(wide_.data() + i);
    } else {
      __builtin_prefetch(narrow_.data() + i);
    }
  }

  void set(std::size_t i, std::uint64_t value) {
    if (!is_wide_ && value > kNarrowMax) widen();
    if (is_wide_) {
      wide_[i] = value;
    } else {
      narrow_[i] = static_cast<std::uint32_t>(value);
    }
  }
  void push_back(std::uint64_t value) {
    if (!is_wide_ && value > kNarrowMax) widen();
    if (is_wide_) {
      wide_.push_back(value);
    } else {
      narrow_.push_back(static_cast<std::uint32_t>(value));
    }
  }
  // Shifts every entry up one place (in place when capacity allows).
  void insert_front(std::uint64_t value) {
    if (!is_wide_ && value > kNarrowMax) widen();
    if (is_wide_) {
      wide_.insert(wide_.begin(), value);
    } else {
      narrow_.insert(narrow_.begin(), static_cast<std::uint32_t>(value));
    }
  }
  // New entries are zero.
  void resize(std::size_t n) {
    if (is_wide_) {
      wide_.resize(n);
    } else {
      narrow_.resize(n);
    }
  }
  // Equal values, whatever the widths.
  friend bool operator==(const U64Column& a, const U64Column& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }
  void reserve(std::size_t n) {
    if (is_wide_) {
      wide_.reserve(n);
    } else {
      narrow_.reserve(n);
    }
  }

 private:
  static constexpr std::uint64_t kNarrowMax = 0xFFFFFFFFu;
  void widen() {
    BigVector<std::uint64_t> wide;
    wide.reserve(narrow_.capacity());  // what the caller reserved still holds
    wide.assign(narrow_.begin(), narrow_.end());
    BigVector<std::uint32_t>().swap(narrow_);
    wide_ = std::move(wide);
    is_wide_ = true;
  }

  BigVector<std::uint32_t> narrow_;
  BigVector<std::uint64_t> wide_;
  bool is_wide_ = false;
};

}  // namespace heapscope
