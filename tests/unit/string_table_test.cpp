#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "heapscope/string_table.hpp"

using namespace heapscope;

TEST_CASE("string table: ids are stable, equal text gives equal ids, views survive growth") {
  StringTable table;
  CHECK(table.intern("") == kNoString);
  CHECK(table.size() == 1);
  const StringId cache = table.intern("cache");
  const std::string_view cache_view = table.view(cache);
  std::vector<std::string> texts;
  std::vector<StringId> ids;
  // Enough strings to grow the index many times and fill several blocks,
  // with long ones (own blocks) mixed in, and embedded NULs.
  for (int i = 0; i < 200'000; ++i) {
    std::string text = "item-" + std::to_string(i);
    if (i % 5000 == 0) text += std::string(400'000, static_cast<char>('a' + i % 26));
    if (i % 7 == 0) text += std::string("\0x", 2);
    texts.push_back(text);
    ids.push_back(table.intern(text));
  }
  CHECK(table.size() == 200'002);
  CHECK(table.intern("cache") == cache);
  CHECK(cache_view.data() == table.view(cache).data());  // never moved
  CHECK(cache_view == "cache");
  for (std::size_t i = 0; i < texts.size(); i += 997) {
    CHECK(table.view(ids[i]) == texts[i]);
    CHECK(table.intern(texts[i]) == ids[i]);
    CHECK(table.find(texts[i]) == ids[i]);
  }
  CHECK(table.find("not interned") == kNoString);
  CHECK(table.find("") == kNoString);  // the empty string is id 0 either way
  CHECK(table.size() == 200'002);      // find never interns

  StringTable moved = std::move(table);
  CHECK(moved.view(ids[42]) == texts[42]);
  CHECK(moved.intern(texts[42]) == ids[42]);
}

TEST_CASE("string table: reserve keeps every id") {
  StringTable table;
  const StringId a = table.intern("a");
  table.reserve(1'000'000);
  CHECK(table.intern("a") == a);
  CHECK(table.intern("b") == a + 1);
}

TEST_CASE("string table: intern_all gives the ids intern would, duplicates and old strings included") {
  StringTable table;
  const StringId old = table.intern("old");
  std::vector<std::string> texts;
  for (int i = 0; i < 5000; ++i) texts.push_back(std::string("s").append(std::to_string(i % 3000)));  // 2000 repeats
  texts.push_back("old");
  texts.push_back("");
  std::vector<StringId> ids(texts.size());
  // No reserve: the index grows while the batch runs.
  table.intern_all(texts.size(), [&](std::size_t i) { return std::string_view(texts[i]); }, ids.data());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    CHECK(table.view(ids[i]) == texts[i]);
    CHECK(table.find(texts[i]) == ids[i]);
  }
  CHECK(ids[0] == ids[3000]);
  CHECK(ids[5000] == old);
  CHECK(ids[5001] == kNoString);
  CHECK(table.size() == 3002);  // "", "old" and 3000 distinct
}

TEST_CASE("string table: a dropped index still finds every string and comes back for intern") {
  StringTable t;
  std::vector<StringId> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string text(1, 's');  // built stepwise: GCC 12 warns (-Wrestrict) on "s" + std::string
    text += std::to_string(i);
    ids.push_back(t.intern(text));
  }
  t.drop_index();
  CHECK(t.find("s0") == ids[0]);
  CHECK(t.find("s999") == ids[999]);
  CHECK(t.find("nope") == kNoString);
  CHECK(t.find("") == kNoString);
  CHECK(t.intern("s500") == ids[500]);  // rebuilt: no duplicate made
  const StringId fresh = t.intern("fresh");
  CHECK(fresh == 1001);
  CHECK(t.find("fresh") == fresh);
  CHECK(t.view(ids[7]) == "s7");
}
