// text_headers.cc — header fields as SpamAssassin's header rules see them
// (Message::Node::header/_decode_header, PerMsgStatus::get and its
// modifiers, Util::parse_header_addresses for :addr and :name).
#include <algorithm>
#include <cctype>

#include "decoders/ascii.h"
#include "decoders/header_block.h"
#include "decoders/transfer_encoding.h"
#include "spam/text_internal.h"

namespace filterd::spam::detail {
namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// "\r?\n" followed by whitespace becomes one space (get_header(..., raw)).
std::string unfold_raw(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    size_t k = i;
    if (v[k] == '\r' && k + 1 < v.size() && v[k + 1] == '\n') ++k;
    if (v[k] == '\n' && k + 1 < v.size() && std::isspace(static_cast<unsigned char>(v[k + 1]))) {
      ++k;
      while (k < v.size() && std::isspace(static_cast<unsigned char>(v[k]))) ++k;
      out += ' ';
      i = k - 1;
      continue;
    }
    out += v[i];
  }
  return out;
}

}  // namespace

std::string decode_header_value(std::string_view value, std::string_view name) {
  std::string v;
  for (size_t i = 0; i < value.size(); ++i) {  // folds vanish, tabs after them become spaces
    if (value[i] == '\r' || value[i] == '\n') {
      if (value[i] == '\n' && i + 1 < value.size() && value[i + 1] == '\t') {
        v += ' ';
        ++i;
      }
      continue;
    }
    v += value[i];
  }
  v = normalize_charset(v, "UTF-8").text;
  const std::string n = decoders::ascii_lower(name);
  if (n == "received" || n == "message-id" || n == "resent-message-id" || n == "date" ||
      n == "resent-date" || n == "mime-version" || n == "references" || n == "in-reply-to" ||
      n.starts_with("list-"))
    return v;  // bug 6945: never MIME-decoded
  if (v.find("=?") == std::string::npos) return v;
  return decoders::decode_encoded_words(v);
}

std::vector<TextHeader> parse_text_headers(std::string_view section) {
  std::vector<TextHeader> out;
  for (const auto& f : decoders::parse_header_fields(section)) {
    const size_t colon = f.raw.find(':');
    if (colon == std::string_view::npos) continue;
    TextHeader h;
    h.name = std::string(f.name.substr(0, std::min<size_t>(f.name.size(), 256)));
    h.raw = std::string(f.raw.substr(colon + 1, 8192 * 64));
    for (size_t p; (p = h.raw.find("\r\n")) != std::string::npos;) h.raw.erase(p, 1);
    std::string value = h.raw;
    size_t b = 0;  // "\n[ \t]+" -> " ", then trimmed
    std::string unfolded;
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '\n' && i + 1 < value.size() &&
          (value[i + 1] == ' ' || value[i + 1] == '\t')) {
        while (i + 1 < value.size() && (value[i + 1] == ' ' || value[i + 1] == '\t')) ++i;
        unfolded += ' ';
        continue;
      }
      unfolded += value[i];
    }
    (void)b;
    h.decoded = decode_header_value(trim(unfolded), h.name);
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<HeaderAddress> parse_header_addresses(std::string_view value) {
  std::vector<HeaderAddress> out;
  std::vector<std::string> groups;
  std::string cur;
  int angle = 0, paren = 0;
  bool quote = false;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (quote) {
      if (c == '\\' && i + 1 < value.size())
        cur += value[++i];
      else if (c == '"')
        quote = false, cur += c;
      else
        cur += c;
      continue;
    }
    if (c == '"' && !paren) quote = true;
    if (c == '(') ++paren;
    if (c == ')' && paren) --paren;
    if (c == '<' && !paren) ++angle;
    if (c == '>' && angle && !paren) --angle;
    if ((c == ',' || c == ';') && !angle && !paren) {
      groups.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  groups.push_back(cur);
  for (std::string g : groups) {
    if (trim(g).empty()) continue;
    size_t colon = g.find(':');  // "group: a@b"
    if (colon != std::string::npos && g.find('<') > colon && g.find('"') > colon &&
        g.find('@') > colon)
      g = g.substr(colon + 1);
    HeaderAddress a;
    const size_t lt = g.find('<'), gt = g.find('>', lt == std::string::npos ? 0 : lt);
    std::string comment;
    auto strip_comments = [&](const std::string& s) {
      std::string r;
      int depth = 0;
      for (char c : s) {
        if (c == '(') {
          if (depth++ == 0) continue;
        } else if (c == ')' && depth > 0) {
          if (--depth == 0) continue;
        }
        (depth ? comment : r) += c;
      }
      return r;
    };
    if (lt != std::string::npos && gt != std::string::npos) {
      a.address = trim(g.substr(lt + 1, gt - lt - 1));
      std::string phrase = trim(strip_comments(g.substr(0, lt)));
      if (phrase.size() >= 2 && phrase.front() == '"' && phrase.back() == '"')
        phrase = phrase.substr(1, phrase.size() - 2);
      if (!phrase.empty() || trim(g.substr(0, lt)) == "\"\"") a.phrase = phrase;
    } else {
      std::string addr = trim(strip_comments(g));
      if (addr.find('@') == std::string::npos && addr.find(' ') != std::string::npos) continue;
      a.address = addr;
      if (!trim(comment).empty()) a.phrase = trim(comment);
    }
    if (a.address && a.address->empty()) a.address.reset();
    if (a.address || a.phrase) out.push_back(std::move(a));
  }
  return out;
}

}  // namespace filterd::spam::detail

namespace filterd::spam {

std::optional<std::string> MessageText::get(std::string_view request) const {
  if (auto it = answers_.find(request); it != answers_.end()) return it->second;
  std::optional<std::string> answer = lookup(request);
  // A large answer (ALL of a header-heavy message) is built again if asked
  // again rather than held for the whole check: a hostile header could
  // otherwise be kept several times over.
  constexpr size_t kLargestRemembered = 16 * 1024;
  if (answer && answer->size() > kLargestRemembered) return answer;
  return answers_.emplace(std::string(request), std::move(answer)).first->second;
}

std::optional<std::string> MessageText::lookup(std::string_view request_in) const {
  std::string request(request_in);
  bool raw = false, addr = false, name = false, first = false, last = false;
  for (size_t p; (p = request.rfind(':')) != std::string::npos && p > 0;) {
    const std::string mod = request.substr(p + 1);
    request.resize(p);
    raw |= mod == "raw", addr |= mod == "addr", name |= mod == "name";
    first |= mod == "first", last |= mod == "last";
  }
  std::vector<std::string> results;
  auto values = [&](std::string_view n, bool want_raw) {
    std::vector<std::string> v;
    for (const auto& h : headers)
      if (decoders::iequals(h.name, n))
        v.push_back(want_raw ? detail::unfold_raw(h.raw) : h.decoded + "\n");
    return v;
  };
  if (request == "ALL") {
    std::string all;
    for (const auto& h : headers) all += h.name + ":" + (raw ? h.raw : " " + h.decoded + "\n");
    if (headers.empty()) return std::nullopt;
    return all;
  }
  if (relays_) {
    const auto& r = *relays_;
    // ALL-*: the header fields down to / from the trust boundary's Received.
    if (request == "ALL-TRUSTED") return received_range(-2, r.last_trusted_index + 1, raw);
    if (request == "ALL-INTERNAL") return received_range(-2, r.last_internal_index + 1, raw);
    if (request == "ALL-UNTRUSTED") return received_range(r.last_trusted_index + 1, -2, raw);
    if (request == "ALL-EXTERNAL") return received_range(r.last_internal_index + 1, -2, raw);
    const std::string lc = decoders::ascii_lower(request);
    const std::string* relay_list = lc == "x-spam-relays-trusted"     ? &r.trusted
                                    : lc == "x-spam-relays-untrusted" ? &r.untrusted
                                    : lc == "x-spam-relays-internal"  ? &r.internal
                                    : lc == "x-spam-relays-external"  ? &r.external
                                                                      : nullptr;
    if (relay_list) results.push_back(*relay_list);
  }
  if (!results.empty()) {
    // a relay list: the modifiers below still apply
  } else if (decoders::iequals(request, "envelopefrom")) {
    // PerMsgStatus::get_envelope_from: the MTA's word, else the relay
    // path's envelope-from, else a sender header above every Received.
    if (envelope_from_) return *envelope_from_;
    auto usable = [](const std::string& a) { return a.empty() || a.find('@') + 1 > 1; };
    if (relays_ && relays_->lasthop_envfrom && usable(*relays_->lasthop_envfrom))
      return *relays_->lasthop_envfrom;
    auto first_addr = [&](const char* n) -> std::optional<std::string> {
      for (const auto& h : headers)
        if (decoders::iequals(h.name, n)) {
          auto a = detail::parse_header_addresses(h.raw);
          if (!a.empty() && a[0].address) return *a[0].address;
          return std::nullopt;
        }
      return std::nullopt;
    };
    auto after_received = [&](const char* n) {
      bool received = false;
      for (const auto& h : headers) {
        const std::string lc = decoders::ascii_lower(h.name);
        if (lc == "received") received = true;
        if (lc == decoders::ascii_lower(n)) return received;
      }
      return false;
    };
    if (auto x = first_addr("X-Sender"); x && x->find('@') != std::string::npos)
      for (const auto& h : headers)
        if (decoders::iequals(h.name, "received") &&
            h.decoded.find("(fetchmail") != std::string::npos)
          return std::nullopt;
    for (const char* n : {"X-Envelope-From", "Envelope-Sender", "Return-Path"}) {
      auto a = first_addr(n);
      if (!a) continue;
      if (!after_received(n)) return a;
      if (std::string_view(n) == "X-Envelope-From") return std::nullopt;
    }
    return std::nullopt;
  } else if (decoders::iequals(request, "tocc")) {
    for (const char* n : {"To", "Cc"})
      for (auto& v : values(n, raw)) results.push_back(std::move(v));
  } else if (request == "MESSAGEID") {
    for (const char* n :
         {"X-Message-Id", "Resent-Message-Id", "X-Original-Message-ID", "Message-Id"})
      for (auto& v : values(n, raw))
        if (!v.empty()) results.push_back(std::move(v));
  } else {
    results = values(request, raw || addr || name);
  }
  if (results.empty()) return std::nullopt;
  if (first) results.resize(1);
  if (last) results.erase(results.begin(), results.end() - 1);
  if (addr || name) {
    std::vector<std::string> res;
    for (const auto& line : results)
      for (const auto& a : detail::parse_header_addresses(line)) {
        if (addr && a.address) res.push_back(*a.address);
        if (!addr && a.phrase) {
          std::string d = raw ? *a.phrase : detail::decode_header_value(*a.phrase, "PMS:get");
          std::string squeezed;
          for (char c : d) {
            if (std::isspace(static_cast<unsigned char>(c))) {
              if (!squeezed.empty() && squeezed.back() != ' ') squeezed += ' ';
            } else {
              squeezed += c;
            }
          }
          d = detail::trim(squeezed);
          if (d.size() >= 2 && d.front() == '\'' && d.back() == '\'') d = d.substr(1, d.size() - 2);
          res.push_back(d);
        }
      }
    results = std::move(res);
    if (results.empty()) return std::nullopt;
  }
  std::string joined;
  const bool nl = results[0].ends_with("\n");
  for (size_t i = 0; i < results.size(); ++i) joined += (i && !nl ? "\n" : "") + results[i];
  return joined;
}

// PerMsgStatus::get_all_hdrs_in_rcvd_index_range: header fields whose
// Received index (-1 before the first Received, counting from the top) is
// at least `start` (-2: no bound) and below `end` (-2: no bound), plus the
// Received header numbered `end` itself.
std::optional<std::string> MessageText::received_range(int start, int end, bool raw) const {
  if (end != -2 && end < 0) return std::nullopt;
  std::string out;
  int index = -1;
  for (const auto& h : headers) {
    if (decoders::iequals(h.name, "received")) ++index;
    const std::string line = h.name + ":" + (raw ? h.raw : " " + h.decoded + "\n");
    if ((start == -2 || start <= index) && (end == -2 || index < end)) {
      out += line;
    } else if (end != -2 && index == end) {
      out += line;
      break;
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::vector<std::string> MessageText::get_mime_header(std::string_view name, bool raw) const {
  std::vector<std::string> out;
  for (const auto& part : part_headers)
    for (const auto& h : part)
      if (decoders::iequals(h.name, name))
        out.push_back(raw ? detail::unfold_raw(h.raw) : h.decoded);
  return out;
}

}  // namespace filterd::spam
