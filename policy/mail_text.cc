// mail_text.cc — see mail_text.h.
#include "policy/mail_text.h"

#include <algorithm>
#include <cstdint>

#include "decoders/header_block.h"
#include "decoders/transfer_encoding.h"

namespace filterd::policy {
namespace {

constexpr size_t kMaxLine = 998;        // RFC 5322 §2.1.1, without CRLF
constexpr size_t kFoldWidth = 78;       // RFC 5322 §2.1.1 "SHOULD"
constexpr size_t kEncodedWordMax = 75;  // RFC 2047 §2
constexpr size_t kEncodedLineMax = 76;  // RFC 2047 §2, lines holding encoded words
constexpr std::string_view kWordStart = "=?UTF-8?B?";

// Cuts `s` to at most `limit` bytes, ending in "..." if cut, between
// UTF-8 sequences.
void bound(std::string& s, size_t limit) {
  if (s.size() <= limit) return;
  size_t cut = limit >= 3 ? limit - 3 : 0;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
  s.resize(cut);
  s += std::string_view("...").substr(0, limit - cut);
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

}  // namespace

size_t utf8_sequence(std::string_view s, size_t i, char32_t& cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3f);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

bool hidden_control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || cp == 0x200e ||
         cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
         cp == 0xfeff;
}

std::string one_line_utf8(std::string_view v, size_t limit) {
  std::string out;
  out.reserve(std::min(v.size(), limit + 8));
  bool in_control = false;
  for (size_t i = 0; i < v.size() && out.size() <= limit + 4;) {
    char32_t cp = 0;
    size_t n = utf8_sequence(v, i, cp);
    if (n == 0) {
      out += '?';
      in_control = false;
      ++i;
      continue;
    }
    if (hidden_control(cp)) {
      if (!in_control) out += ' ';
      in_control = true;
    } else {
      out.append(v.substr(i, n));
      in_control = false;
    }
    i += n;
  }
  bound(out, limit);
  return out;
}

bool is_ascii(std::string_view s) {
  return std::ranges::all_of(s, [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string unstructured_field(std::string_view name, std::string_view value) {
  std::string v = one_line_utf8(value, SIZE_MAX / 2), words;
  for (char c : v) {  // collapse white space; folding re-adds it
    if (c == ' ' && (words.empty() || words.back() == ' ')) continue;
    words += c;
  }
  if (!words.empty() && words.back() == ' ') words.pop_back();

  bool encode = !is_ascii(words) || words.find("=?") != std::string::npos;
  for (size_t i = 0; !encode && i < words.size();) {
    size_t sp = std::min(words.find(' ', i), words.size());
    encode = sp - i > kFoldWidth - 2;
    i = sp + 1;
  }

  std::string out(name);
  out += ':';
  size_t line = out.size();
  if (!encode) {
    for (size_t i = 0; i < words.size();) {
      size_t sp = std::min(words.find(' ', i), words.size());
      std::string_view w = std::string_view(words).substr(i, sp - i);
      if (line > name.size() + 1 && line + 1 + w.size() > kFoldWidth) {
        out += "\r\n";
        line = 0;
      }
      out += ' ';
      out += w;
      line += 1 + w.size();
      i = sp + 1;
    }
    return out + "\r\n";
  }
  // RFC 2047 §2, §5(1): encoded words of at most 75 characters, each on its
  // own line after the first; each holds whole UTF-8 sequences (§5: "each
  // 'encoded-word' MUST represent an integral number of characters").
  for (size_t i = 0; i < words.size();) {
    size_t room = kEncodedWordMax;
    if (line > 0) {  // the first word shares its line with "Name:"
      room = line + 1 < kEncodedLineMax ? kEncodedLineMax - 1 - line : 0;
      room = std::clamp<size_t>(room, 24, kEncodedWordMax);
    }
    const size_t fits = std::min((room - kWordStart.size() - 2) / 4 * 3, words.size() - i);
    size_t take = fits;
    while (take > 0 && i + take < words.size() &&
           (static_cast<unsigned char>(words[i + take]) & 0xc0) == 0x80) {
      --take;
    }
    if (take == 0) take = fits;  // cannot happen with sanitised text; never loop
    if (line == 0) out += "\r\n";
    out += ' ';
    out += kWordStart;
    out += base64(std::string_view(words).substr(i, take));
    out += "?=";
    line = 0;
    i += take;
  }
  return out + "\r\n";
}

std::string crlf_text(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32 + 2);
  auto emit = [&](std::string_view line) {
    while (line.size() > kMaxLine) {
      size_t cut = line.rfind(' ', kMaxLine);
      size_t skip = 1;
      if (cut == std::string_view::npos || cut == 0) {
        cut = kMaxLine;
        while (cut > kMaxLine - 3 && (static_cast<unsigned char>(line[cut]) & 0xc0) == 0x80) --cut;
        skip = 0;
      }
      out.append(line.substr(0, cut));
      out += "\r\n";
      line.remove_prefix(cut + skip);
    }
    out.append(line);
    out += "\r\n";
  };
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r' && text[i] != '\n') continue;
    emit(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) emit(text.substr(start));
  return out;
}

std::string original_subject(std::string_view message) {
  auto v = decoders::header_value(message, "Subject");
  return v ? decoders::decode_encoded_words(*v) : std::string();
}

}  // namespace filterd::policy
