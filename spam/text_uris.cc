// text_uris.cc — the links SpamAssassin's uri rules see: PerMsgStatus's
// Thunderbird-like scan of the rendered body (_tbirdurire) and
// Util::uri_list_canonicalize's variants. Hand-written scanning instead of
// the Perl regexp, with the same delimiters and length bounds.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>

#include "spam/text_internal.h"

namespace filterd::spam::detail {
namespace {

bool in_set(char c, const char* set) {
  return c != 0 && std::strchr(set, c) != nullptr;
}

// The scan below asks these of every byte of the body: one table lookup
// each instead of strchr over a delimiter list and a locale call (the
// process keeps the "C" locale, so isalnum is ASCII, as Perl's \w on bytes).
enum CharClass : uint8_t {
  kWord = 1,
  kHostChar = 2,
  kEndDelim = 4,
  kEndDelimEmail = 8,
  kStartDelim = 16,
  kScStartDelim = 32,
};

constexpr std::array<uint8_t, 256> kCharClasses = [] {
  std::array<uint8_t, 256> t{};
  auto mark = [&](const char* set, uint8_t bits) {
    for (const char* p = set; *p; ++p) t[static_cast<unsigned char>(*p)] |= bits;
  };
  for (int c = 0; c < 256; ++c) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    const bool space = c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;  // and the NBSP byte
    if (alnum) t[c] |= kWord | kHostChar;
    if (space) t[c] |= kEndDelim | kEndDelimEmail | kStartDelim | kScStartDelim;
    if (c >= 0x80) t[c] |= kEndDelimEmail;
  }
  t['_'] |= kWord;
  mark("._-", kHostChar);
  // $tbirdenddelim: ><"`}]{[| whitespace, ESC, NBSP byte.
  mark("><\"`}]{[|\x1b", kEndDelim | kEndDelimEmail);
  mark(",('", kEndDelimEmail);
  mark("><\"'`,{[(|\x1b", kStartDelim);
  mark("!\"#$&'()*+,/:;<=>?@[\\]^`{|}~\x1b", kScStartDelim);
  return t;
}();

bool ws(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}
bool is(char c, CharClass k) {
  return (kCharClasses[static_cast<unsigned char>(c)] & k) != 0;
}
bool end_delim(char c) {
  return is(c, kEndDelim);
}
bool end_delim_email(char c) {
  return is(c, kEndDelimEmail);
}
bool start_delim(char c) {
  return is(c, kStartDelim);
}
bool sc_start_delim(char c) {
  return is(c, kScStartDelim);
}
bool word(char c) {
  return is(c, kWord);
}
bool host_char(char c) {
  return is(c, kHostChar);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// `prefix` is lower case.
bool istarts(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t k = 0; k < prefix.size(); ++k) {
    if (std::tolower(static_cast<unsigned char>(s[k])) != prefix[k]) return false;
  }
  return true;
}

template <typename Stop>
size_t run(std::string_view s, size_t i, Stop stop, size_t max) {
  size_t k = i;
  while (k < s.size() && k - i < max && !stop(s[k])) ++k;
  return k;
}

// uriknownscheme: https?:// ftp:// www\d{0,2}. ftp. then [^enddelim]{1,2048}.
size_t match_known(std::string_view s, size_t i) {
  const std::string_view t = s.substr(i);
  size_t p = 0;
  if (istarts(t, "http://"))
    p = 7;
  else if (istarts(t, "https://"))
    p = 8;
  else if (istarts(t, "ftp://") || istarts(t, "ftp."))
    p = t[3] == '.' ? 4 : 6;
  else if (istarts(t, "www")) {
    p = 3;
    while (p < 5 && p < t.size() && std::isdigit(static_cast<unsigned char>(t[p]))) ++p;
    if (p >= t.size() || t[p] != '.') return 0;
    ++p;
  }
  if (p == 0) return 0;
  size_t e = run(s, i + p, end_delim, 2048);
  if (e == i + p || (e < s.size() && !end_delim(s[e]))) return 0;
  return e - i;
}

// urimailscheme: mailto:... or local@domain.
size_t match_mail(std::string_view s, size_t i) {
  if (istarts(s.substr(i), "mailto:")) {
    size_t e = run(s, i + 7, end_delim_email, 2048);
    if (e > i + 7 && (e == s.size() || end_delim_email(s[e]))) return e - i;
  }
  size_t at = run(
      s, i, [](char c) { return end_delim_email(c) || c == '@'; }, 251);
  if (at == i || at >= s.size() || s[at] != '@') return 0;
  size_t e = run(s, at + 1, end_delim_email, 251);
  if (e == at + 1 || (e < s.size() && !end_delim_email(s[e]))) return 0;
  return e - i;
}

// urischemeless: host.TLD, optional ".", ":port", "/path", then a delimiter.
size_t match_schemeless(std::string_view s, size_t i, const std::unordered_set<std::string>& tlds) {
  if (!std::isalnum(static_cast<unsigned char>(s[i]))) return 0;
  size_t host_end = std::min(run(
                                 s, i, [](char c) { return !host_char(c); }, 252 + 64),
                             s.size());
  for (size_t e = host_end; e > i + 2; --e) {
    // Inside the host run only a '.' can end the TLD (the tail must then be
    // ".", then a delimiter, a port or a path; a host character is none of
    // them), so every other end is skipped before any lookup.
    if (e < host_end && s[e] != '.') continue;
    size_t dot = s.substr(i, e - i).rfind('.');
    if (dot == std::string_view::npos) continue;
    dot += i;
    if (dot <= i || dot - i > 252) continue;
    if (!tlds.count(lower(s.substr(dot + 1, e - dot - 1)))) continue;
    // Tails in the order the regexp's greedy quantifiers try them.
    for (int with_dot = 1; with_dot >= 0; --with_dot) {
      size_t p = e;
      if (with_dot) {
        if (p >= s.size() || s[p] != '.') continue;
        ++p;
      }
      size_t port_end = p;
      if (p < s.size() && s[p] == ':') {
        size_t d = p + 1;
        while (d < s.size() && d - p <= 5 && std::isdigit(static_cast<unsigned char>(s[d]))) ++d;
        if (d > p + 1) port_end = d;
      }
      for (size_t q : {port_end, p}) {
        if (q < s.size() && s[q] == '/') {
          size_t pe = run(s, q + 1, end_delim, 2048);
          if (pe > q + 1 && (pe == s.size() || end_delim(s[pe]))) return pe - i;
        }
        if (q == s.size() || end_delim(s[q])) return q - i;
      }
    }
  }
  return 0;
}

bool www_prefix(std::string_view u) {
  if (!istarts(u, "www")) return false;
  size_t p = 3;
  while (p < 5 && p < u.size() && std::isdigit(static_cast<unsigned char>(u[p]))) ++p;
  return p < u.size() && u[p] == '.';
}

bool domain_valid(std::string_view host, const std::unordered_set<std::string>* tlds) {
  std::string h = lower(host);
  while (!h.empty() && h.back() == '.') h.pop_back();
  size_t dot = h.rfind('.');
  return tlds && dot != std::string::npos && dot > 0 && tlds->count(h.substr(dot + 1)) > 0;
}

// Util::url_encode (which in fact decodes): %XX of printable ASCII other
// than space becomes the character; control and 8-bit bytes, '"', '%',
// '<', '>' outside escapes become %xx.
std::string url_decode_printable(std::string_view u) {
  std::string out;
  for (size_t i = 0; i < u.size(); ++i) {
    if (u[i] == '%' && i + 2 < u.size() && std::isxdigit(static_cast<unsigned char>(u[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(u[i + 2]))) {
      const int v = std::stoi(std::string(u.substr(i + 1, 2)), nullptr, 16);
      if (v > 0x20 && v < 0x7f) {
        out += static_cast<char>(v);
      } else {
        out.append(u.substr(i, 3));
      }
      i += 2;
      continue;
    }
    const auto c = static_cast<unsigned char>(u[i]);
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '%' || c == '<' || c == '>') {
      static const char* hex = "0123456789abcdef";
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += u[i];
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> find_text_uris(const std::vector<std::string>& lines,
                                        const std::unordered_set<std::string>* tlds) {
  std::vector<std::string> found;
  std::set<std::string> seen;
  for (const std::string& line_str : lines) {
    const std::string_view s = line_str;
    for (size_t i = 0; i < s.size();) {
      const char prev = i > 0 ? s[i - 1] : 0;
      const bool boundary = i == 0 ? word(s[i]) : word(prev) != word(s[i]);
      // bug 4522: an ISO-2022 shift "ESC ( x" also starts a link
      const bool shift = i >= 3 && s[i - 3] == '\x1b' && s[i - 2] == '(';
      size_t len = 0;
      int type = 0;  // 1 scheme, 2 mail, 3 schemeless
      if (boundary || shift || (i > 0 && start_delim(prev))) {
        if ((len = match_known(s, i)))
          type = 1;
        else if ((len = match_mail(s, i)))
          type = 2;
      }
      if (!type && tlds && (i == 0 || sc_start_delim(prev)) &&
          (len = match_schemeless(s, i, *tlds)))
        type = 3;
      if (!type) {
        ++i;
        continue;
      }
      std::string raw(s.substr(i, len));
      i += len;
      // ")" ends a link without "(" before it; trailing punctuation is not part of it.
      size_t paren = raw.find(')');
      if (paren != std::string::npos && raw.find('(') > paren) raw.resize(paren);
      while (!raw.empty() && in_set(raw.back(), "-~!@#^&*()_+=:;'?,.")) raw.pop_back();
      if (!seen.insert(raw).second) continue;
      if (type == 2 && raw.find('@') == std::string::npos) continue;
      if (istarts(raw, "cid:") || istarts(raw, "mid:")) continue;
      {  // "scheme:" or "scheme://" alone
        size_t k = 0;
        while (k < raw.size() && word(raw[k])) ++k;
        if (k > 0 && k < raw.size() && raw[k] == ':') {
          size_t slashes = raw.size() - k - 1;
          if (slashes <= 2 && raw.find_first_not_of('/', k + 1) == std::string::npos) continue;
        }
      }
      std::string uri = raw;
      if (!istarts(uri, "http:") && !istarts(uri, "https:") && !istarts(uri, "ftp:") &&
          !istarts(uri, "mailto:")) {
        const size_t at = uri.find('@');
        const size_t slash = uri.find('/');
        if (istarts(uri, "ftp.")) {
          uri = "ftp://" + uri;
        } else if (www_prefix(uri)) {
          uri = "http://" + uri;
        } else if (slash != std::string::npos && at != std::string::npos && at > slash + 1) {
          uri = "http://" + uri;
        } else if (at != std::string::npos) {
          if (uri.find('.', at + 2) == std::string::npos) continue;
          if (uri.find("&nbsp;") != std::string::npos) continue;
          size_t k = 0;  // strip misparsed "mail:", "e-mail:", "skype:" prefixes
          for (const char* p : {"skype", "email", "e-mail", "mail"})
            if (istarts(uri, p) && uri.size() > std::strlen(p) && uri[std::strlen(p)] == ':') {
              k = std::strlen(p);
              break;
            }
          if (k || (!uri.empty() && uri[0] == ':'))
            while (k < uri.size() && uri[k] == ':') ++k;
          uri = "mailto:" + uri.substr(k);
        } else {
          if (uri.find('.') == std::string::npos) continue;
          uri = "http://" + uri;
        }
      }
      if (istarts(uri, "mailto:")) {
        bool escaped = false;
        for (size_t k = 0; k + 2 < uri.size(); ++k)
          escaped |= uri[k] == '%' && std::isxdigit(static_cast<unsigned char>(uri[k + 1])) &&
                     std::isxdigit(static_cast<unsigned char>(uri[k + 2]));
        if (escaped) uri = url_decode_printable(uri);
        size_t at = uri.find('@');
        if (at == std::string::npos) continue;
        std::string host = uri.substr(at + 1, uri.find_first_of("?&>", at + 1) - at - 1);
        while (host.ends_with("%20")) host.resize(host.size() - 3);
        if (!domain_valid(host, tlds)) continue;
      }
      found.push_back(std::move(uri));
    }
  }
  return found;
}

bool uri_has_valid_domain(std::string_view uri_in, const std::unordered_set<std::string>* tlds) {
  std::string u = lower(uri_in);
  if (u.starts_with("javascript:") || u.starts_with("cid:") || u.starts_with("file:")) return false;
  if (u.starts_with("mailto:")) {
    u = u.substr(7, u.find('?') == std::string::npos ? std::string::npos : u.find('?') - 7);
    size_t at = u.find('@');
    if (at == std::string::npos || u.find('@', at + 1) != std::string::npos) return false;
    u = u.substr(at + 1);
  } else {
    size_t k = 0;
    while (k < u.size() && std::isalpha(static_cast<unsigned char>(u[k]))) ++k;
    if (k > 0 && k < u.size() && u[k] == ':') {
      ++k;
      for (int n = 0; n < 2 && k < u.size() && u[k] == '/'; ++n) ++k;
      u = u.substr(k);
    }
    u = u.substr(0, u.find_first_of("/?#"));
    if (size_t at = u.rfind('@'); at != std::string::npos) u = u.substr(at + 1);
    size_t colon = u.rfind(':');
    if (colon != std::string::npos &&
        u.find_first_not_of("0123456789", colon + 1) == std::string::npos)
      u.resize(colon);
  }
  for (size_t i = 0; i + 2 < u.size(); ++i)  // printable characters still %-escaped
    if (u[i] == '%' && std::isxdigit(static_cast<unsigned char>(u[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(u[i + 2]))) {
      const int v = std::stoi(u.substr(i + 1, 2), nullptr, 16);
      if (v > 0x20 && v < 0x7f) return false;
    }
  int dots = 0;
  bool ip = !u.empty();
  for (char c : u) ip &= std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && ++dots);
  if (ip && dots == 3) return true;
  // is_fqdn_valid: letters, digits and inner hyphens per label
  if (u.empty() || u.size() > 253) return false;
  for (size_t b = 0; b <= u.size();) {
    size_t e = u.find('.', b);
    if (e == std::string::npos) e = u.size();
    const std::string_view label = std::string_view(u).substr(b, e - b);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        !std::all_of(label.begin(), label.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
        }))
      return false;
    b = e + 1;
  }
  return domain_valid(u, tlds);
}

void canonicalize_uri(std::string_view in, const std::unordered_set<std::string>* tlds,
                      std::set<std::string>& out) {
  std::vector<std::string> uris{std::string(in)};
  for (size_t n = 0; n < uris.size() && n < 16; ++n) {  // redirect targets are appended
    std::string uri;
    for (char c : uris[n])
      if (c != '\n' && c != '\r') uri += c;
    while (!uri.empty() && ws(uri.back())) uri.pop_back();
    uri.erase(0, std::min(uri.size(), uri.find_first_not_of(" \t\n\r\f\v")));
    out.insert(uris[n]);
    if (uri.size() <= 1 || uri[0] == '#' || uri[0] == '?' || uri[0] == '&' ||
        (uri[0] == '/' && uri[1] != '/'))
      continue;
    const size_t at = uri.find('@'), colon = uri.find(':');
    if (istarts(uri, "mailto:") ||
        (at != std::string::npos && (colon == std::string::npos || colon > at))) {
      const size_t q = uri.find('?', at);
      if (at != std::string::npos && at > 0 && q != std::string::npos && q > at + 1)
        out.insert(uri.substr(0, q));
      const size_t amp = uri.find_first_of("?&", at);
      if (at != std::string::npos && at > 0 && amp != std::string::npos && uri[amp] == '&' &&
          amp > at + 1)
        out.insert(uri.substr(0, amp));
      continue;
    }
    std::string nuri = uri;
    std::replace(nuri.begin(), nuri.end(), '\\', '/');
    for (const char* scheme : {"http:", "https:"})
      if (istarts(nuri, scheme)) {
        size_t p = std::strlen(scheme), k = p;
        while (k < nuri.size() && k - p < 2 && nuri[k] == '/') ++k;
        nuri = nuri.substr(0, p) + "//" + nuri.substr(k);
        break;
      }
    if (nuri.find('%') != std::string::npos) nuri = url_decode_printable(nuri);
    {
      size_t k = 0;
      while (k < nuri.size() && (std::isalnum(static_cast<unsigned char>(nuri[k])) ||
                                 nuri[k] == '-' || nuri[k] == '_'))
        ++k;
      if (k == 0 || k >= nuri.size() || nuri[k] != ':')
        nuri = (nuri.starts_with("ftp.") ? "ftp://" : "http://") + nuri;
    }
    const bool http = istarts(nuri, "http://"), https = istarts(nuri, "https://");
    if (http || https) {  // "http://host?x" -> "http://host/?x"
      size_t h = http ? 7 : 8, e = nuri.find_first_of("/?#", h);
      if (e != std::string::npos && e > h && nuri[e] != '/') nuri.insert(e, "/");
    }
    if (nuri != uri) out.insert(nuri);
    if (!http && !https) continue;
    const std::string proto = lower(nuri.substr(0, http ? 7 : 8));
    size_t h = proto.size(), host_end = nuri.find_first_of("/?#", h);
    if (host_end == std::string::npos) host_end = nuri.size();
    std::string authority = nuri.substr(h, host_end - h);
    size_t userinfo = authority.rfind('@');
    std::string auth = userinfo == std::string::npos ? "" : authority.substr(0, userinfo + 1);
    std::string hostport =
        userinfo == std::string::npos ? authority : authority.substr(userinfo + 1);
    size_t pc = hostport.find(':');
    std::string host = hostport.substr(0, pc);
    std::string rest = (pc == std::string::npos ? "" : hostport.substr(pc)) + nuri.substr(host_end);
    if (host.empty()) continue;
    std::string port = pc == std::string::npos ? "" : hostport.substr(pc + 1);
    port.resize(std::find_if(port.begin(), port.end(),
                             [](char c) { return !std::isdigit(static_cast<unsigned char>(c)); }) -
                port.begin());
    if (pc == std::string::npos) {
      port = http ? "80" : "443";
    } else {
      const std::string def = http ? ":80" : ":443";
      if (rest.starts_with(def) && (rest.size() == def.size() || !word(rest[def.size()])))
        out.insert(proto + host + rest.substr(def.size()));
    }
    // idn_to_ascii: only an IDN host gets a (punycode) variant; SpamAssassin
    // compares with lc($host), so an upper-case ASCII host stays as it is.
    // the hard-coded redirector: a second http link inside the first
    for (size_t p = 0; (p = lower(rest).find("http", p)) != std::string::npos; ++p) {
      size_t k = p + 4 + (p + 4 < rest.size() && (rest[p + 4] == 's' || rest[p + 4] == 'S'));
      if (k >= rest.size() || rest[k] != ':') continue;
      size_t e = rest.find_first_of("&#", k);
      std::string target = rest.substr(p, e == std::string::npos ? std::string::npos : e - p);
      if (target.find('.') != std::string::npos) uris.push_back(target);
      break;
    }
    std::string trimmed = host;
    while (!trimmed.empty() && !std::isalnum(static_cast<unsigned char>(trimmed.back())))
      trimmed.pop_back();
    if (trimmed != host) out.insert(proto + trimmed + rest), host = trimmed;
    const bool all_digits = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c));
    });
    if (all_digits && host.size() <= 10) {  // decode_ulong_to_ip
      unsigned long v = std::stoul(host);
      out.insert(proto + std::to_string((v >> 24) & 255) + "." + std::to_string((v >> 16) & 255) +
                 "." + std::to_string((v >> 8) & 255) + "." + std::to_string(v & 255) + rest);
    } else if (http && auth.empty() && host != "localhost" && port == "80" &&
               host.find('.') == std::string::npos) {
      if (!domain_valid(host, tlds)) out.insert(proto + "www." + host + ".com" + rest);
    } else if (http && auth.empty() && host != "localhost" && port == "80" &&
               host.starts_with("www.") && host.find('.', 4) == std::string::npos &&
               !domain_valid(host, tlds)) {
      out.insert(proto + host + ".com" + rest);
    }
  }
}

}  // namespace filterd::spam::detail
