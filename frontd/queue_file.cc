// queue_file.cc — see queue_file.h.
#include "frontd/queue_file.h"

#include <algorithm>
#include <charconv>

#include "smtp/command.h"

namespace filterd::frontd {
namespace {

constexpr std::string_view kMessageMagic = "frontd-queue 1\n";
constexpr std::string_view kStatusMagic = "frontd-status 1\n";
// A header block larger than this is not ours: recipients are limited by
// smtpd_recipient_limit and each line by the SMTP path length.
constexpr size_t kMaxHeader = 4 << 20;

template <typename T>
bool parse_number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

std::string x(std::string_view s) {
  return s.empty() ? "+" : smtp::xtext_encode(s);
}

// "+" alone stands for the empty string (xtext cannot be empty on a line).
std::expected<std::string, std::string> unx(std::string_view s) {
  if (s == "+") return std::string();
  auto v = smtp::xtext_decode(s);
  if (!v) return std::unexpected("bad xtext '" + std::string(s.substr(0, 40)) + "'");
  return *v;
}

struct Line {
  std::string_view key, value;
};

Line split_line(std::string_view line) {
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return {line, {}};
  return {line.substr(0, sp), line.substr(sp + 1)};
}

}  // namespace

std::string encode_message(const QueuedMessage& m) {
  const smtp::Envelope& e = m.envelope;
  std::string out(kMessageMagic);
  out += "id " + m.id + "\n";
  out += "arrival " + std::to_string(m.arrival_ms) + "\n";
  out += std::string("stage ") + (m.stage == Stage::kFilter ? "filter" : "deliver") + "\n";
  out += "client " + x(m.client) + "\n";
  out += "helo " + x(m.helo) + "\n";
  out += "sender " + x(e.sender) + "\n";
  if (!e.ret.empty()) out += "ret " + x(e.ret) + "\n";
  if (!e.envid.empty()) out += "envid " + x(e.envid) + "\n";
  if (!e.body.empty()) out += "body " + x(e.body) + "\n";
  if (e.smtputf8) out += "smtputf8\n";
  const std::pair<const char*, const std::string*> xf[] = {
      {"NAME", &e.xforward.name},    {"ADDR", &e.xforward.addr}, {"PORT", &e.xforward.port},
      {"PROTO", &e.xforward.proto},  {"HELO", &e.xforward.helo}, {"IDENT", &e.xforward.ident},
      {"SOURCE", &e.xforward.source}};
  for (const auto& [k, v] : xf) {
    if (!v->empty()) out += std::string("xforward ") + k + " " + x(*v) + "\n";
  }
  for (const smtp::Recipient& r : e.recipients) {
    out += "rcpt " + x(r.address) + " " + (r.notify.empty() ? "-" : x(r.notify)) + " " +
           (r.orcpt.empty() ? "-" : x(r.orcpt)) + "\n";
  }
  out += "size " + std::to_string(m.data.size()) + "\n\n";
  out += m.data;
  return out;
}

std::expected<QueuedMessage, std::string> parse_message_header(std::string_view head,
                                                               unsigned long long total_size) {
  if (!head.starts_with(kMessageMagic)) return std::unexpected("not a frontd queue file");
  size_t end = head.find("\n\n");
  if (end == std::string_view::npos) {
    return std::unexpected(head.size() >= kMaxHeader ? "header too long" : "truncated header");
  }
  const size_t body_offset = end + 2;
  std::string_view rest = head.substr(kMessageMagic.size(), end + 1 - kMessageMagic.size());
  QueuedMessage m;
  bool have_id = false, have_size = false, have_arrival = false, have_stage = false;
  auto bad = [](std::string_view what) { return std::unexpected("bad " + std::string(what)); };
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    Line l = split_line(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
    auto text = [&](std::string& into) {
      auto v = unx(l.value);
      if (!v) return false;
      into = std::move(*v);
      return true;
    };
    if (l.key == "id") {
      if (l.value.empty() || l.value.find_first_not_of("0123456789ABCDEF") != std::string::npos) {
        return bad("id");
      }
      m.id = l.value;
      have_id = true;
    } else if (l.key == "arrival") {
      if (!parse_number(l.value, m.arrival_ms)) return bad("arrival");
      have_arrival = true;
    } else if (l.key == "stage") {
      if (l.value != "filter" && l.value != "deliver") return bad("stage");
      m.stage = l.value == "filter" ? Stage::kFilter : Stage::kDeliver;
      have_stage = true;
    } else if (l.key == "client") {
      if (!text(m.client)) return bad("client");
    } else if (l.key == "helo") {
      if (!text(m.helo)) return bad("helo");
    } else if (l.key == "sender") {
      if (!text(m.envelope.sender)) return bad("sender");
    } else if (l.key == "ret") {
      if (!text(m.envelope.ret)) return bad("ret");
    } else if (l.key == "envid") {
      if (!text(m.envelope.envid)) return bad("envid");
    } else if (l.key == "body") {
      if (!text(m.envelope.body)) return bad("body");
    } else if (l.key == "smtputf8") {
      m.envelope.smtputf8 = true;
    } else if (l.key == "xforward") {
      Line kv = split_line(l.value);
      smtp::XForward& xf = m.envelope.xforward;
      std::string* slot = kv.key == "NAME"     ? &xf.name
                          : kv.key == "ADDR"   ? &xf.addr
                          : kv.key == "PORT"   ? &xf.port
                          : kv.key == "PROTO"  ? &xf.proto
                          : kv.key == "HELO"   ? &xf.helo
                          : kv.key == "IDENT"  ? &xf.ident
                          : kv.key == "SOURCE" ? &xf.source
                                               : nullptr;
      auto v = unx(kv.value);
      if (slot == nullptr || !v) return bad("xforward");
      *slot = std::move(*v);
    } else if (l.key == "rcpt") {
      Line a = split_line(l.value);
      Line b = split_line(a.value);
      smtp::Recipient r;
      auto addr = unx(a.key);
      if (!addr || addr->empty() || b.value.empty()) return bad("rcpt");
      r.address = std::move(*addr);
      if (b.key != "-") {
        auto v = unx(b.key);
        if (!v) return bad("rcpt notify");
        r.notify = std::move(*v);
      }
      if (b.value != "-") {
        auto v = unx(b.value);
        if (!v) return bad("rcpt orcpt");
        r.orcpt = std::move(*v);
      }
      m.envelope.recipients.push_back(std::move(r));
    } else if (l.key == "size") {
      if (!parse_number(l.value, m.size)) return bad("size");
      have_size = true;
    } else {
      return std::unexpected("unknown record '" + std::string(l.key.substr(0, 40)) + "'");
    }
  }
  if (!have_id || !have_size || !have_arrival || !have_stage) {
    return std::unexpected("missing id, arrival, stage or size");
  }
  if (m.envelope.recipients.empty()) return std::unexpected("no recipients");
  if (m.size > total_size || body_offset + m.size != total_size) {
    return std::unexpected("message is " +
                           std::to_string(total_size - std::min<size_t>(body_offset, total_size)) +
                           " bytes, header says " + std::to_string(m.size));
  }
  return m;
}

std::expected<QueuedMessage, std::string> parse_message(std::string_view file, bool header_only) {
  auto m = parse_message_header(file.substr(0, kMaxHeader), file.size());
  if (!m) return m;
  if (!header_only) m->data = std::string(file.substr(file.size() - m->size));
  return m;
}

std::string encode_status(const QueueStatus& s) {
  std::string out(kStatusMagic);
  out += "attempts " + std::to_string(s.attempts) + "\n";
  out += "next " + std::to_string(s.next_attempt) + "\n";
  for (size_t i : s.done) out += "done " + std::to_string(i) + "\n";
  if (!s.reason.empty()) out += "reason " + x(s.reason) + "\n";
  out += "end\n";  // a status file without it was cut short
  return out;
}

std::expected<QueueStatus, std::string> parse_status(std::string_view file) {
  if (!file.starts_with(kStatusMagic)) return std::unexpected("not a frontd status file");
  std::string_view rest = file.substr(kStatusMagic.size());
  QueueStatus s;
  bool ended = false;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) return std::unexpected("truncated status file");
    Line l = split_line(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
    size_t index = 0;
    if (ended) return std::unexpected("data after end");
    if (l.key == "attempts") {
      if (!parse_number(l.value, s.attempts)) return std::unexpected("bad attempts");
    } else if (l.key == "next") {
      if (!parse_number(l.value, s.next_attempt)) return std::unexpected("bad next");
    } else if (l.key == "done") {
      if (!parse_number(l.value, index)) return std::unexpected("bad done");
      s.done.insert(index);
    } else if (l.key == "reason") {
      auto v = unx(l.value);
      if (!v) return std::unexpected("bad reason");
      s.reason = std::move(*v);
    } else if (l.key == "end") {
      ended = true;
    } else {
      return std::unexpected("unknown status record");
    }
  }
  if (!ended) return std::unexpected("truncated status file");
  return s;
}

}  // namespace filterd::frontd
