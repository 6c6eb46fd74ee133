// transfer_encoding.cc — see transfer_encoding.h.
#include "decoders/transfer_encoding.h"

#include <iconv.h>

#include <array>
#include <cctype>
#include <cerrno>

#include "decoders/ascii.h"

namespace filterd::decoders {
namespace {

constexpr uint8_t kSkip = 0x80, kPad = 0x81;

constexpr std::array<uint8_t, 256> make_b64_table() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = kSkip;
  const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(a[i])] = static_cast<uint8_t>(i);
  t['-'] = 62;  // base64url, seen in the wild and decoded by clients
  t['_'] = 63;
  t['='] = kPad;
  return t;
}
constexpr std::array<uint8_t, 256> kB64 = make_b64_table();

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

size_t decode_base64(std::string_view in, std::string& out) {
  const size_t start = out.size();
  out.resize(start + in.size() / 4 * 3 + 3);
  char* dst = out.data() + start;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const auto* end = p + in.size();
  size_t junk = 0;
  uint32_t acc = 0;
  int n = 0;
  while (p < end) {
    // Fast path: four alphabet characters in a row (the common case).
    if (n == 0 && end - p >= 4) {
      uint32_t a = kB64[p[0]], b = kB64[p[1]], c = kB64[p[2]], d = kB64[p[3]];
      if ((a | b | c | d) < 64) {
        uint32_t v = a << 18 | b << 12 | c << 6 | d;
        dst[0] = static_cast<char>(v >> 16);
        dst[1] = static_cast<char>(v >> 8);
        dst[2] = static_cast<char>(v);
        dst += 3;
        p += 4;
        continue;
      }
    }
    uint8_t v = kB64[*p++];
    if (v < 64) {
      acc = acc << 6 | v;
      if (++n == 4) {
        dst[0] = static_cast<char>(acc >> 16);
        dst[1] = static_cast<char>(acc >> 8);
        dst[2] = static_cast<char>(acc);
        dst += 3;
        acc = 0;
        n = 0;
      }
    } else if (v == kPad) {
      // End of a quantum: emit what the 2 or 3 characters carry, resync.
      if (n == 2) *dst++ = static_cast<char>(acc >> 4);
      if (n == 3) {
        *dst++ = static_cast<char>(acc >> 10);
        *dst++ = static_cast<char>(acc >> 2);
      }
      acc = 0;
      n = 0;
    } else if (p[-1] != '\r' && p[-1] != '\n' && p[-1] != ' ' && p[-1] != '\t') {
      ++junk;
    }
  }
  if (n == 2) *dst++ = static_cast<char>(acc >> 4);
  if (n == 3) {
    *dst++ = static_cast<char>(acc >> 10);
    *dst++ = static_cast<char>(acc >> 2);
  }
  out.resize(static_cast<size_t>(dst - out.data()));
  return junk;
}

void decode_quoted_printable(std::string_view in, std::string& out) {
  out.reserve(out.size() + in.size());
  size_t i = 0;
  while (i < in.size()) {
    size_t eq = in.find('=', i);
    if (eq == std::string_view::npos) {
      out.append(in.substr(i));
      return;
    }
    out.append(in.substr(i, eq - i));
    i = eq + 1;
    int hi = i < in.size() ? hex_value(in[i]) : -1;
    int lo = i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
    if (hi >= 0 && lo >= 0) {
      out += static_cast<char>(hi << 4 | lo);
      i += 2;
      continue;
    }
    // Soft line break: "=" then optional blanks then a line end (RFC 2045 §6.7 rule 5).
    size_t j = i;
    while (j < in.size() && (in[j] == ' ' || in[j] == '\t')) ++j;
    if (j < in.size() && (in[j] == '\n' || in[j] == '\r')) {
      i = j + (in[j] == '\r' && j + 1 < in.size() && in[j + 1] == '\n' ? 2 : 1);
    } else if (j == in.size()) {
      i = j;
    } else {
      out += '=';  // not an escape: keep literally, as clients do
    }
  }
}

std::string to_utf8(std::string_view in, std::string_view charset) {
  if (charset.empty() || iequals(charset, "utf-8") || iequals(charset, "us-ascii") ||
      iequals(charset, "utf8")) {
    return std::string(in);
  }
  std::string cs(charset);
  iconv_t cd = iconv_open("UTF-8", cs.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::string(in);
  std::string out(in.size() * 4 + 16, '\0');
  char* src = const_cast<char*>(in.data());
  size_t src_left = in.size();
  char* dst = out.data();
  size_t dst_left = out.size();
  size_t r = iconv(cd, &src, &src_left, &dst, &dst_left);
  iconv_close(cd);
  if (r == static_cast<size_t>(-1)) return std::string(in);
  out.resize(out.size() - dst_left);
  return out;
}

std::string decode_encoded_words(std::string_view in) {
  std::string out;
  size_t i = 0;
  bool last_was_word = false;
  while (i < in.size()) {
    size_t start = in.find("=?", i);
    if (start == std::string_view::npos) {
      out.append(in.substr(i));
      break;
    }
    // "=?charset?X?text?=" with no spaces inside (RFC 2047 §2).
    size_t q1 = in.find('?', start + 2);
    size_t q2 = q1 == std::string_view::npos ? q1 : in.find('?', q1 + 1);
    size_t close = q2 == std::string_view::npos ? q2 : in.find("?=", q2 + 1);
    bool valid = close != std::string_view::npos && q2 == q1 + 2 &&
                 in.substr(start, close - start).find_first_of(" \t\r\n") == std::string_view::npos;
    std::string_view between = in.substr(i, start - i);
    bool only_ws = between.find_first_not_of(" \t\r\n") == std::string_view::npos;
    if (!valid) {
      out.append(in.substr(i, start + 2 - i));
      i = start + 2;
      last_was_word = false;
      continue;
    }
    if (!(last_was_word && only_ws)) out.append(between);  // §6.2: drop ws between words
    std::string_view charset = in.substr(start + 2, q1 - start - 2);
    if (size_t star = charset.find('*'); star != std::string_view::npos) {
      charset = charset.substr(0, star);  // RFC 2231 §5 language suffix
    }
    char enc = static_cast<char>(std::toupper(static_cast<unsigned char>(in[q1 + 1])));
    std::string_view text = in.substr(q2 + 1, close - q2 - 1);
    std::string raw;
    if (enc == 'B') {
      decode_base64(text, raw);
    } else if (enc == 'Q') {
      std::string t(text);
      for (char& c : t) {
        if (c == '_') c = ' ';
      }
      decode_quoted_printable(t, raw);
    } else {
      out.append(in.substr(start, close + 2 - start));
      i = close + 2;
      last_was_word = false;
      continue;
    }
    out += to_utf8(raw, charset);
    i = close + 2;
    last_was_word = true;
  }
  return out;
}

std::string decode_rfc2231_value(std::string_view in) {
  size_t q1 = in.find('\'');
  size_t q2 = q1 == std::string_view::npos ? q1 : in.find('\'', q1 + 1);
  std::string_view charset = q2 == std::string_view::npos ? std::string_view() : in.substr(0, q1);
  std::string_view text = q2 == std::string_view::npos ? in : in.substr(q2 + 1);
  std::string raw;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        raw += static_cast<char>(hi << 4 | lo);
        i += 2;
        continue;
      }
    }
    raw += text[i];
  }
  return to_utf8(raw, charset);
}

}  // namespace filterd::decoders
