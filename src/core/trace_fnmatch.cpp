// fnmatch.fnmatchcase as CPython 3.10+ defines it (Lib/fnmatch.py translates
// the pattern to a regular expression; this matches the same language
// directly). Only the [...] rules need care: they follow the chunking that
// translate() does, so "[a-c-e]", "[z-a]" and "[!]" mean what they mean there.
#include <algorithm>
#include <string>
#include <vector>

#include "heapscope/trace_stats.hpp"

namespace heapscope::trace {
namespace {

// UTF-8 to code points, leniently (surrogates as CPython's surrogatepass
// writes them decode like any other 3-byte sequence; stray bytes stand for
// themselves, offset past the Unicode range so they never equal a real
// code point).
std::u32string decode(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    int extra = b0 < 0x80 ? 0 : (b0 & 0xE0) == 0xC0 ? 1 : (b0 & 0xF0) == 0xE0 ? 2 : (b0 & 0xF8) == 0xF0 ? 3 : -1;
    char32_t cp = extra == 0 ? b0 : extra == 1 ? (b0 & 0x1F) : extra == 2 ? (b0 & 0x0F) : (b0 & 0x07);
    bool ok = extra >= 0 && i + static_cast<std::size_t>(extra) < text.size() + (extra == 0 ? 1 : 0);
    if (ok && i + static_cast<std::size_t>(extra) >= text.size()) ok = false;
    for (int k = 1; ok && k <= extra; ++k) {
      const auto b = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
      if ((b & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (!ok) {
      out.push_back(0x110000 + b0);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<std::size_t>(extra) + 1;
  }
  return out;
}

struct CharSet {
  bool negated = false;
  std::u32string literals;
  std::vector<std::pair<char32_t, char32_t>> ranges;

  bool contains(char32_t c) const {
    bool in = literals.find(c) != std::u32string::npos;
    for (const auto& [lo, hi] : ranges) in = in || (lo <= c && c <= hi);
    return in != negated;
  }
};

enum class TokenKind { Literal, AnyChar, Star, Set };
struct Token {
  TokenKind kind;
  char32_t literal = 0;
  std::size_t set = 0;
};

struct Program {
  std::vector<Token> tokens;
  std::vector<CharSet> sets;
};

// pat[i..j) is the text between '[' and ']'. Mirrors translate()'s chunks:
// the text is cut at each '-' that can make a range, empty ranges (x > y)
// are removed, and each join between two chunks is a range from the last
// character of one to the first of the next; everything else is literal.
CharSet compile_set(const std::u32string& pat, std::size_t i, std::size_t j) {
  std::vector<std::u32string> chunks;
  const std::u32string stuff = pat.substr(i, j - i);
  if (stuff.find(U'-') == std::u32string::npos) {
    chunks.push_back(stuff);
  } else {
    std::size_t k = pat[i] == U'!' ? i + 2 : i + 1;
    while (true) {
      const std::size_t found = k < j ? pat.find(U'-', k) : std::u32string::npos;
      if (found == std::u32string::npos || found >= j) break;
      chunks.push_back(pat.substr(i, found - i));
      i = found + 1;
      k = found + 3;
    }
    std::u32string last = pat.substr(i, j - i);
    if (!last.empty()) {
      chunks.push_back(last);
    } else {
      chunks.back() += U'-';
    }
    for (std::size_t c = chunks.size() - 1; c > 0; --c) {
      if (chunks[c - 1].back() > chunks[c].front()) {
        chunks[c - 1] = chunks[c - 1].substr(0, chunks[c - 1].size() - 1) + chunks[c].substr(1);
        chunks.erase(chunks.begin() + static_cast<std::ptrdiff_t>(c));
      }
    }
  }
  CharSet set;
  if (!chunks.front().empty() && chunks.front().front() == U'!') {
    set.negated = true;
    chunks.front().erase(0, 1);
  }
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    std::u32string body = chunks[c];
    if (c > 0) body.erase(0, 1);                        // the end of the previous range
    if (c + 1 < chunks.size() && !body.empty()) body.pop_back();  // the start of the next
    set.literals += body;
    if (c + 1 < chunks.size()) set.ranges.emplace_back(chunks[c].back(), chunks[c + 1].front());
  }
  return set;
}

Program compile(const std::u32string& pat) {
  Program program;
  std::size_t i = 0;
  const std::size_t n = pat.size();
  while (i < n) {
    const char32_t c = pat[i++];
    if (c == U'*') {
      if (program.tokens.empty() || program.tokens.back().kind != TokenKind::Star) {
        program.tokens.push_back({TokenKind::Star});
      }
    } else if (c == U'?') {
      program.tokens.push_back({TokenKind::AnyChar});
    } else if (c == U'[') {
      std::size_t j = i;
      if (j < n && pat[j] == U'!') ++j;
      if (j < n && pat[j] == U']') ++j;
      while (j < n && pat[j] != U']') ++j;
      if (j >= n) {
        program.tokens.push_back({TokenKind::Literal, U'['});
      } else {
        program.sets.push_back(compile_set(pat, i, j));
        program.tokens.push_back({TokenKind::Set, 0, program.sets.size() - 1});
        i = j + 1;
      }
    } else {
      program.tokens.push_back({TokenKind::Literal, c});
    }
  }
  return program;
}

bool token_matches(const Program& program, const Token& token, char32_t c) {
  switch (token.kind) {
    case TokenKind::Literal: return token.literal == c;
    case TokenKind::AnyChar: return true;
    case TokenKind::Set: return program.sets[token.set].contains(c);
    case TokenKind::Star: break;
  }
  return false;
}

// Classic glob matching with one backtrack point (the last star): every
// piece between stars has a fixed length, so the leftmost match of each
// piece is the right one (what translate()'s atomic groups also rely on).
bool run(const Program& program, const std::u32string& name) {
  const auto& tokens = program.tokens;
  std::size_t t = 0, s = 0;
  std::size_t star_t = std::string::npos, star_s = 0;
  while (s < name.size()) {
    if (t < tokens.size() && tokens[t].kind == TokenKind::Star) {
      star_t = t++;
      star_s = s;
    } else if (t < tokens.size() && token_matches(program, tokens[t], name[s])) {
      ++t;
      ++s;
    } else if (star_t != std::string::npos) {
      t = star_t + 1;
      s = ++star_s;
    } else {
      return false;
    }
  }
  while (t < tokens.size() && tokens[t].kind == TokenKind::Star) ++t;
  return t == tokens.size();
}

}  // namespace

bool fnmatch(std::string_view name, std::string_view pattern) {
  return run(compile(decode(pattern)), decode(name));
}

std::string_view normalize_filename(std::string_view filename) {
  if (filename.size() >= 4 && filename.substr(filename.size() - 4) == ".pyc") {
    return filename.substr(0, filename.size() - 1);
  }
  return filename;
}

}  // namespace heapscope::trace
