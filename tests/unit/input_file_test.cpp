#include <doctest/doctest.h>

#include <zlib.h>

#include "heapscope/error.hpp"
#include "readers/input_file.hpp"
#include "readers/reader.hpp"

using namespace heapscope;
using namespace heapscope::readers;

namespace {

std::string gzip(const std::string& text) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

const std::string kMinimal =
    R"({"nodes":[{"id":1,"type":"A","size":10,"refs":[2]},{"id":2,"type":"B","size":5}],"roots":[1]})";

}  // namespace

TEST_CASE("gzip input is detected by its magic and decompressed") {
  const InputFile input = InputFile::from_bytes(gzip(kMinimal), "mem.gz");
  CHECK(input.compression() == Compression::Gzip);
  CHECK(input.bytes() == kMinimal);
  const Snapshot snapshot = read_snapshot(input);
  REQUIRE(snapshot.graph);
  CHECK(snapshot.graph->object_count() == 2);
}

TEST_CASE("a truncated gzip stream is an input error") {
  std::string bytes = gzip(kMinimal);
  bytes.resize(bytes.size() / 2);
  CHECK_THROWS_AS(InputFile::from_bytes(bytes, "cut.gz"), InputError);
}

TEST_CASE("the minimal graph form is accepted") {
  const Snapshot snapshot = read_snapshot(InputFile::from_bytes(kMinimal));
  REQUIRE(snapshot.graph);
  CHECK(snapshot.format == "heapscope-graph");
  CHECK(snapshot.graph->edge_count() == 2);  // root edge + one reference
}

TEST_CASE("input decompressing past the limit is an input error naming the file") {
  const std::string big(1 << 20, ' ');  // 1 MiB of spaces: compresses to about 1 KiB
  const std::string packed = gzip(big);
  CHECK(InputFile::from_bytes(packed, "ok.gz", big.size()).size() == big.size());
  try {
    InputFile::from_bytes(packed, "bomb.gz", big.size() - 1);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.path() == "bomb.gz");
    CHECK(e.format() == "gzip");
    CHECK(e.problem().find("decompresses to more than 1048575 bytes") != std::string::npos);
  }
  CHECK(InputFile::default_decompressed_limit() >= (std::uint64_t{1} << 26));
}

TEST_CASE("an input error quoting file text is one printable line") {
  const InputError e("unknown key \"a\nb\x1b[31m\x7f\"", 7, "dir/x\ty.json", "heapscope-graph");
  CHECK(std::string(e.what()) == R"(dir/x\ty.json: heapscope-graph: unknown key "a\nb\x1b[31m\x7f" (at byte 7))");
  // UTF-8 text stays; C1 controls (U+009B is CSI), as UTF-8 or as raw bytes,
  // and stray bytes do not.
  CHECK(printable("caf\xc3\xa9 \xe2\x82\xac") == "caf\xc3\xa9 \xe2\x82\xac");
  CHECK(printable("k\xc2\x9b" "31m \x9b \xc3") == R"(k\xc2\x9b31m \x9b \xc3)");
  // Ill-formed UTF-8 is escaped too: an overlong CSI, a surrogate, a code
  // point past U+10FFFF. The largest well-formed ones stay.
  CHECK(printable("\xe0\x82\x9b|\xed\xa0\x80|\xf4\x90\x80\x80") ==
        R"(\xe0\x82\x9b|\xed\xa0\x80|\xf4\x90\x80\x80)");
  CHECK(printable("\xed\x9f\xbf\xf4\x8f\xbf\xbf") == "\xed\x9f\xbf\xf4\x8f\xbf\xbf");
  const std::string long_key(5000, 'k');
  const std::string shown = printable(long_key);
  CHECK(shown.size() < 1100);
  CHECK(shown.find("(3976 more bytes)") != std::string::npos);
}

TEST_CASE("a heapscope graph starting with an unknown V8-like key is still a heapscope graph") {
  // The V8 sniffer accepts re-sorted snapshots ("edges" first), but only
  // when the array looks like V8's.
  for (const std::string text :
       {R"({"edges":[],"nodes":[{"id":1,"type":"A","size":10}],"roots":[1]})",
        R"({"strings":[],"nodes":[{"id":1,"type":"A","size":10}],"roots":[1]})",
        R"({"nodes":[{"id":1,"type":"A","size":10}],"roots":[1]})"}) {
    const Snapshot snapshot = read_snapshot(InputFile::from_bytes(text));
    CHECK(snapshot.format == "heapscope-graph");
  }
}
