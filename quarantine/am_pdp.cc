// am_pdp.cc — see am_pdp.h.
#include "quarantine/am_pdp.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace filterd::quarantine {
namespace {

// Ids amavis makes are 12 or 16 characters (72 or 96 bits); anything much
// longer is no id of a quarantined message.
constexpr std::size_t kMaxIdLength = 64;
// RFC 5321 §4.5.3.1.3: a path is at most 256 octets, brackets included.
constexpr std::size_t kMaxPathLength = 256;
// Longest value quoted back in an error message.
constexpr std::size_t kMaxQuoted = 64;

// Attributes amavis reads as one value; a second one would be ambiguous.
constexpr std::array<std::string_view, 8> kSingletons = {
    "request",   "mail_id",       "secret_id",    "quar_type",
    "mail_file", "partition_tag", "requested_by", "sender"};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_hex(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '%';
  out += kHex[c >> 4];
  out += kHex[c & 15];
}

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// A value quoted in an error message: printable ASCII only, bounded.
std::string quoted(std::string_view v) {
  std::string out = "'";
  for (unsigned char c : v.substr(0, kMaxQuoted)) out += (c >= 0x20 && c < 0x7f) ? char(c) : '?';
  if (v.size() > kMaxQuoted) out += "...";
  return out + "'";
}

// amavis's preprocess_policy_query: [A-Za-z0-9][A-Za-z0-9_+-]*={0,2}.
bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength || !is_alnum(id[0])) return false;
  std::size_t end = id.find_last_not_of('=');
  if (id.size() - end - 1 > 2) return false;
  return std::all_of(id.begin(), id.begin() + end + 1,
                     [](char c) { return is_alnum(c) || c == '_' || c == '+' || c == '-'; });
}

// amavis's check on mail_file: [A-Za-z0-9][A-Za-z0-9/_.+-]* and no
// component ending in ".." (it matches \.\.(?:/|\z)).
bool valid_mail_file(std::string_view f) {
  if (f.empty() || !is_alnum(f[0])) return false;
  if (!std::all_of(f.begin(), f.end(), [](char c) {
        return is_alnum(c) || c == '/' || c == '_' || c == '.' || c == '+' || c == '-';
      })) {
    return false;
  }
  for (std::size_t p = f.find(".."); p != std::string_view::npos; p = f.find("..", p + 1)) {
    if (p + 2 == f.size() || f[p + 2] == '/') return false;
  }
  return true;
}

// An envelope address as a release may carry it, <> removed. Control
// characters would end up in Resent-From: or an SMTP command.
std::expected<std::string, std::string> address(std::string_view name, std::string_view v) {
  if (v.size() > kMaxPathLength)
    return std::unexpected("Invalid " + std::string(name) + " (too long)");
  if (v.size() >= 2 && v.front() == '<' && v.back() == '>') v = v.substr(1, v.size() - 2);
  for (unsigned char c : v) {
    if (c < 0x20 || c == 0x7f) {
      return std::unexpected("Invalid " + std::string(name) + " " + quoted(v));
    }
  }
  return std::string(v);
}

std::string base64(const unsigned char* data, std::size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < n; i += 3) {
    unsigned v = data[i] << 16;
    if (i + 1 < n) v |= data[i + 1] << 8;
    if (i + 2 < n) v |= data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < n ? kAlphabet[v & 63] : '=';
  }
  return out;
}

// base64url (or base64) to bytes; '=' ends the data. False on other bytes.
bool unbase64(std::string_view s, std::string& out) {
  unsigned bits = 0;
  int nbits = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else if (c == '=')
      break;
    else
      return false;
    bits = (bits << 6) | unsigned(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out += char((bits >> nbits) & 0xff);
    }
  }
  return true;
}

// The first 12 characters of base64(md5(data)), or "" if MD5 is unavailable.
std::string md5_b64_12(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_md5(), nullptr) != 1) return "";
  return base64(md.data(), len).substr(0, 12);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

std::string PdpRequest::get(std::string_view name) const {
  for (const auto& [n, v] : attributes) {
    if (n == name) return v;
  }
  return "";
}

std::vector<std::string> PdpRequest::all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : attributes) {
    if (n == name) out.push_back(v);
  }
  return out;
}

std::size_t PdpRequest::count(std::string_view name) const {
  return std::count_if(attributes.begin(), attributes.end(),
                       [&](const auto& a) { return a.first == name; });
}

std::expected<void, std::string> PdpParser::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    if (!error_.empty()) return std::unexpected(error_);
    std::size_t nl = bytes.find('\n');
    std::size_t take = nl == std::string_view::npos ? bytes.size() : nl + 1;
    std::size_t text = nl == std::string_view::npos ? take : nl;
    // The error names the limit the first offending byte breaks, the line's
    // if both: the same however the bytes were split.
    const std::size_t line_room = limits_.max_line - line_.size();
    const std::size_t request_room = limits_.max_request_bytes - current_bytes_;
    if (text > line_room || take > request_room) {
      error_ = text > line_room && (take <= request_room || line_room <= request_room)
                   ? "line longer than " + std::to_string(limits_.max_line) + " bytes"
                   : "request longer than " + std::to_string(limits_.max_request_bytes) + " bytes";
      return std::unexpected(error_);
    }
    current_bytes_ += take;
    line_.append(bytes.substr(0, text));
    bytes.remove_prefix(take);
    if (nl != std::string_view::npos) {
      if (auto ended = end_line(); !ended) return ended;
    }
  }
  if (!error_.empty()) return std::unexpected(error_);
  return {};
}

std::expected<void, std::string> PdpParser::end_line() {
  std::string_view line = line_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {  // the end of the request
    done_.push_back(std::move(current_));
    current_ = PdpRequest{};
    current_bytes_ = 0;
  } else {
    // amavis: ^([^=\0\n]*?)(=|:[ \t]*)([^\n]*?)\r?\n — the first '=' or ':'.
    std::size_t sep = line.find_first_of("=:");
    if (sep == std::string_view::npos || line.substr(0, sep).find('\0') != std::string_view::npos) {
      ++current_.malformed_lines;
    } else {
      if (current_.attributes.size() >= limits_.max_attributes) {
        error_ = "more than " + std::to_string(limits_.max_attributes) + " attributes";
        return std::unexpected(error_);
      }
      std::string_view value = line.substr(sep + 1);
      if (line[sep] == ':') {
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
          value.remove_prefix(1);
        }
      }
      current_.attributes.emplace_back(pdp_decode(line.substr(0, sep)), pdp_decode(value));
    }
  }
  line_.clear();
  return {};
}

PdpRequest PdpParser::pop() {
  PdpRequest r = std::move(done_.front());
  done_.pop_front();
  return r;
}

std::string pdp_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    int hi, lo;
    if (s[i] == '%' && i + 2 < s.size() && (hi = hex_value(s[i + 1])) >= 0 &&
        (lo = hex_value(s[i + 2])) >= 0) {
      out += char(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string pdp_encode(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (unsigned char c : field) {
    if (c < 0x21 || c > 0x7e || c == '%')
      append_hex(out, c);
    else
      out += char(c);
  }
  return out;
}

std::string pdp_encode_name(std::string_view name) {
  std::string out;
  for (unsigned char c : name) {
    if (is_alnum(char(c)) || c == '.' || c == '_' || c == '+' || c == '-')
      out += char(c);
    else
      append_hex(out, c);
  }
  return out;
}

std::string pdp_response(const std::vector<PdpAttribute>& attrs) {
  std::string out;
  for (const auto& a : attrs) {
    out += pdp_encode_name(a.name);
    out += '=';
    for (std::size_t i = 0; i < a.fields.size(); ++i) {
      if (i > 0) out += ' ';
      out += pdp_encode(a.fields[i]);
    }
    out += "\r\n";
  }
  return out + "\r\n";
}

PdpAttribute pdp_setreply(int code, std::string_view enhanced, std::string_view text) {
  return {"setreply", {std::to_string(code), std::string(enhanced), std::string(text)}};
}

std::string pdp_failure_response(std::string_view reason) {
  return pdp_response({pdp_setreply(450, "4.5.0", "Failure: " + std::string(reason)),
                       {"return_value", {"tempfail"}},
                       {"exit_code", {"75"}}});
}

std::expected<ReleaseRequest, std::string> parse_release(const PdpRequest& r) {
  if (r.malformed_lines > 0) return std::unexpected("Malformed attribute line");
  for (std::string_view name : kSingletons) {
    if (r.count(name) > 1) return std::unexpected("Repeated '" + std::string(name) + "' field");
  }
  if (r.count("request") == 0) return std::unexpected("Missing 'request' field");
  ReleaseRequest out;
  out.request = r.get("request");
  std::transform(out.request.begin(), out.request.end(), out.request.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; });
  if (out.request != kPdpRelease && out.request != kPdpRequeue) {
    return std::unexpected("Unsupported request " + quoted(r.get("request")));
  }
  if (r.count("mail_id") == 0) return std::unexpected("Missing 'mail_id' field");
  out.mail_id = r.get("mail_id");
  if (!valid_id(out.mail_id)) return std::unexpected("Invalid mail_id " + quoted(out.mail_id));
  out.secret_id = r.get("secret_id");
  if (!out.secret_id.empty() && !valid_id(out.secret_id)) {
    return std::unexpected("Invalid secret_id");  // never quoted: it is a credential
  }
  out.quar_type = r.get("quar_type");
  if (!out.quar_type.empty() &&
      (out.quar_type.size() != 1 ||
       std::string_view("FZBQM").find(out.quar_type[0]) == std::string_view::npos)) {
    return std::unexpected("Invalid quar_type " + quoted(out.quar_type));
  }
  out.mail_file = r.get("mail_file");
  if (!out.mail_file.empty() && !valid_mail_file(out.mail_file)) {
    return std::unexpected("Unsafe filename " + quoted(out.mail_file));
  }
  out.partition_tag = r.get("partition_tag");
  if (out.partition_tag.size() > kMaxIdLength ||
      !std::all_of(out.partition_tag.begin(), out.partition_tag.end(),
                   [](unsigned char c) { return c > 0x20 && c < 0x7f; })) {
    return std::unexpected("Invalid partition_tag " + quoted(out.partition_tag));
  }
  if (r.count("requested_by") > 0) {
    auto a = address("requested_by", r.get("requested_by"));
    if (!a) return std::unexpected(a.error());
    out.requested_by = *a;
  }
  if (r.count("sender") > 0) {
    auto a = address("sender", r.get("sender"));
    if (!a) return std::unexpected(a.error());
    out.sender = *a;
  }
  for (const std::string& v : r.all("recipient")) {
    auto a = address("recipient", v);
    if (!a) return std::unexpected(a.error());
    if (a->empty()) return std::unexpected("Invalid recipient '<>'");
    out.recipients.push_back(std::move(*a));
  }
  return out;
}

bool secret_id_matches(std::string_view mail_id, std::string_view secret_id) {
  if (secret_id.empty() || secret_id.size() > kMaxIdLength) return false;
  bool match = false;
  if (secret_id.find('+') == std::string_view::npos) {  // base64url secret (amavis >= 2.7)
    std::string secret;
    if (unbase64(secret_id, secret)) {
      std::string id = md5_b64_12(secret);
      std::replace(id.begin(), id.end(), '+', '-');
      std::replace(id.begin(), id.end(), '/', '_');
      match |= !id.empty() && equal_constant_time(id, mail_id);
    }
  }
  if (secret_id.find('_') == std::string_view::npos) {  // the secret text itself (< 2.7)
    std::string id = md5_b64_12(secret_id);
    std::replace(id.begin(), id.end(), '/', '-');
    match |= !id.empty() && equal_constant_time(id, mail_id);
  }
  return match;
}

}  // namespace filterd::quarantine
