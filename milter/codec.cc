// codec.cc — milter framing, command parsing and reply encoding (see codec.h).
#include "milter/codec.h"

#include <algorithm>
#include <cstring>

namespace filterd::milter {
namespace {

Error error(Error::Kind kind, char command, std::string detail) {
  return Error{kind, command, std::move(detail)};
}

void put_u32(std::string& out, uint32_t v) {
  out += static_cast<char>((v >> 24) & 0xff);
  out += static_cast<char>((v >> 16) & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
  out += static_cast<char>(v & 0xff);
}

void put_string(std::string& out, std::string_view s) {
  out += s;
  out += '\0';
}

// Reads the fields of one packet's data, front to back.
class Reader {
 public:
  Reader(char command, std::string_view data) : command_(command), rest_(data) {}

  std::expected<std::string, Error> string(const char* what) {
    size_t nul = rest_.find('\0');
    if (nul == std::string_view::npos) {
      return std::unexpected(
          error(Error::Kind::kMissingNul, command_, std::string(what) + " not NUL-terminated"));
    }
    std::string s(rest_.substr(0, nul));
    rest_.remove_prefix(nul + 1);
    return s;
  }
  std::expected<uint32_t, Error> u32(const char* what) {
    if (rest_.size() < 4) return std::unexpected(short_field(what));
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(rest_[i]);
    rest_.remove_prefix(4);
    return v;
  }
  std::expected<uint16_t, Error> u16(const char* what) {
    if (rest_.size() < 2) return std::unexpected(short_field(what));
    uint16_t v = static_cast<uint16_t>((static_cast<unsigned char>(rest_[0]) << 8) |
                                       static_cast<unsigned char>(rest_[1]));
    rest_.remove_prefix(2);
    return v;
  }
  std::expected<char, Error> byte(const char* what) {
    if (rest_.empty()) return std::unexpected(short_field(what));
    char c = rest_[0];
    rest_.remove_prefix(1);
    return c;
  }
  // NUL-terminated strings up to the end of the data; at least one.
  std::expected<std::vector<std::string>, Error> strings(const char* what) {
    std::vector<std::string> out;
    do {
      auto s = string(what);
      if (!s) return std::unexpected(s.error());
      out.push_back(std::move(*s));
    } while (!rest_.empty());
    return out;
  }
  std::expected<void, Error> end() {
    if (!rest_.empty()) {
      return std::unexpected(error(Error::Kind::kTrailingData, command_,
                                   std::to_string(rest_.size()) + " bytes after the last field"));
    }
    return {};
  }
  std::string_view rest() const { return rest_; }

 private:
  Error short_field(const char* what) const {
    return error(Error::Kind::kShortPacket, command_, std::string(what) + " cut short");
  }
  char command_;
  std::string_view rest_;
};

// The value, or an early return of the error from the enclosing function.
#define MILTER_TRY(var, expr)                                      \
  auto var##_result = (expr);                                      \
  if (!var##_result) return std::unexpected(var##_result.error()); \
  auto var = std::move(*var##_result)
// An early return of the error of a std::expected<void, Error>.
#define MILTER_CHECK(expr) \
  if (auto check_result = (expr); !check_result) return std::unexpected(check_result.error())

std::expected<void, Error> no_data(const Packet& p) {
  return Reader(p.command, p.data).end();
}

std::expected<OptNeg, Error> read_optneg(const Packet& p) {
  Reader r(p.command, p.data);
  MILTER_TRY(version, r.u32("OPTNEG version"));
  MILTER_TRY(actions, r.u32("OPTNEG actions"));
  MILTER_TRY(proto, r.u32("OPTNEG protocol flags"));
  return OptNeg{version, actions, proto};  // later bytes ignored, as libmilter does
}

std::expected<Command, Error> read_macros(const Packet& p) {
  Reader r(p.command, p.data);
  MILTER_TRY(for_command, r.byte("macro command"));
  Macros m{for_command, {}};
  if (r.rest().empty()) return m;
  MILTER_TRY(strings, r.strings("macro"));
  if (strings.size() % 2 != 0) {
    return std::unexpected(
        error(Error::Kind::kBadMacros, p.command, "macro " + strings.back() + " has no value"));
  }
  for (size_t i = 0; i < strings.size(); i += 2) {
    m.pairs.emplace_back(std::move(strings[i]), std::move(strings[i + 1]));
  }
  return m;
}

std::expected<Command, Error> read_connect(const Packet& p) {
  Reader r(p.command, p.data);
  MILTER_TRY(hostname, r.string("hostname"));
  MILTER_TRY(family, r.byte("address family"));
  Connect c{std::move(hostname), static_cast<Family>(family), 0, {}};
  switch (c.family) {
    case Family::kUnknown:
      break;
    case Family::kUnix:
    case Family::kInet:
    case Family::kInet6: {
      MILTER_TRY(port, r.u16("port"));
      MILTER_TRY(address, r.string("address"));
      c.port = port;
      c.address = std::move(address);
      break;
    }
    default:
      return std::unexpected(
          error(Error::Kind::kBadFamily, p.command,
                "address family " + std::to_string(static_cast<unsigned char>(family))));
  }
  MILTER_CHECK(r.end());
  return c;
}

template <typename T>
std::expected<Command, Error> read_one_string(const Packet& p, const char* what) {
  Reader r(p.command, p.data);
  MILTER_TRY(s, r.string(what));
  MILTER_CHECK(r.end());
  return T{std::move(s)};
}

template <typename T>
std::expected<T, Error> read_header(Reader& r) {
  MILTER_TRY(name, r.string("header name"));
  MILTER_TRY(value, r.string("header value"));
  MILTER_CHECK(r.end());
  return T{std::move(name), std::move(value)};
}

template <typename T>
std::expected<Command, Error> read_args(const Packet& p, const char* what) {
  Reader r(p.command, p.data);
  MILTER_TRY(args, r.strings(what));
  return T{std::move(args)};
}

template <typename T>
std::expected<Command, Error> empty(const Packet& p) {
  MILTER_CHECK(no_data(p));
  return T{};
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

std::string spaced(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (is_control(static_cast<unsigned char>(c))) c = ' ';
  }
  return out;
}

std::expected<void, Error> check_no_nul(char command, std::string_view s, const char* what) {
  if (s.find('\0') != std::string_view::npos) {
    return std::unexpected(
        error(Error::Kind::kMissingNul, command, std::string(what) + " holds a NUL"));
  }
  return {};
}

std::expected<void, Error> bad(char command, std::string detail) {
  return std::unexpected(error(Error::Kind::kBadValue, command, std::move(detail)));
}

// RFC 5322 field name: printable ASCII but ':'.
std::expected<void, Error> check_header(char command, std::string_view name,
                                        std::string_view value) {
  if (name.empty()) return bad(command, "empty header name");
  for (unsigned char c : name) {
    if (c <= 32 || c >= 127 || c == ':') return bad(command, "bad header name");
  }
  if (auto ok = check_no_nul(command, value, "header value"); !ok) return ok;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '\r' && value[i] != '\n') continue;
    if (value[i] == '\r') {
      if (i + 1 >= value.size() || value[i + 1] != '\n') {
        return bad(command, "bare CR in header value");
      }
      ++i;
    }
    if (i + 1 >= value.size() || (value[i + 1] != ' ' && value[i + 1] != '\t')) {
      return bad(command, "line break without folding in header value");
    }
  }
  return {};
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// "d.ddd.ddd" (RFC 3463), class digit `cls`; returns its length or 0.
size_t status_length(std::string_view s, char cls) {
  if (s.size() < 5 || s[0] != cls || s[1] != '.') return 0;
  size_t i = 2, n = 0;
  while (i < s.size() && is_digit(s[i]) && n < 3) ++i, ++n;
  if (n == 0 || i >= s.size() || s[i] != '.') return 0;
  ++i;
  n = 0;
  while (i < s.size() && is_digit(s[i]) && n < 3) ++i, ++n;
  if (n == 0 || (i < s.size() && s[i] != ' ')) return 0;
  return i;
}

// What Postfix accepts (milter8.c): "4xx" or "5xx", a space, an enhanced
// status code of the same class; then no control characters.
std::expected<void, Error> check_reply_line(std::string_view line) {
  const char c = reply::kReplyCode;
  if (line.size() < 9 || (line[0] != '4' && line[0] != '5') || !is_digit(line[1]) ||
      !is_digit(line[2]) || line[3] != ' ' || status_length(line.substr(4), line[0]) == 0) {
    return bad(c, "reply is not \"4xx/5xx x.y.z text\": " + spaced(line.substr(0, 40)));
  }
  if (auto ok = check_no_nul(c, line, "reply"); !ok) return ok;
  for (unsigned char ch : line) {
    if (is_control(ch)) return bad(c, "control character in reply");
  }
  return {};
}

}  // namespace

std::string Error::message() const {
  static constexpr const char* kNames[] = {
      "zero packet length",  "oversized packet",   "unknown command", "missing NUL",
      "trailing data",       "bad address family", "short packet",    "unpaired macro",
      "unsupported version", "bad value"};
  std::string out = "milter: ";
  out += kNames[static_cast<size_t>(kind)];
  if (command != 0) {
    out += " in '";
    out += is_control(static_cast<unsigned char>(command)) ||
                   static_cast<unsigned char>(command) >= 0x7f
               ? '?'
               : command;
    out += "' packet";
  }
  if (!detail.empty()) out += " (" + detail + ")";
  return out;
}

std::string frame(char command, std::string_view data) {
  std::string out;
  out.reserve(5 + data.size());
  put_u32(out, static_cast<uint32_t>(data.size() + 1));
  out += command;
  out += data;
  return out;
}

std::expected<std::vector<Packet>, Error> MilterDecoder::feed(std::string_view bytes) {
  if (!failed_) return std::unexpected(failed_.error());
  std::vector<Packet> out;
  while (!bytes.empty()) {
    if (!in_packet_) {
      size_t take = std::min(bytes.size(), sizeof header_ - header_fill_);
      std::memcpy(header_ + header_fill_, bytes.data(), take);
      header_fill_ += take;
      bytes.remove_prefix(take);
      if (header_fill_ < sizeof header_) break;
      uint32_t len = (uint32_t{header_[0]} << 24) | (uint32_t{header_[1]} << 16) |
                     (uint32_t{header_[2]} << 8) | uint32_t{header_[3]};
      header_fill_ = 0;
      if (len == 0) {
        failed_ = std::unexpected(error(Error::Kind::kZeroLength, 0, {}));
        return std::unexpected(failed_.error());
      }
      if (len > max_packet_) {
        failed_ = std::unexpected(
            error(Error::Kind::kOversized, 0,
                  "length " + std::to_string(len) + " > " + std::to_string(max_packet_)));
        return std::unexpected(failed_.error());
      }
      in_packet_ = true;
      have_command_ = false;
      remaining_ = len;
      current_ = Packet{};
      continue;
    }
    if (!have_command_) {
      current_.command = bytes[0];
      bytes.remove_prefix(1);
      have_command_ = true;
      --remaining_;
      current_.data.reserve(remaining_);
    }
    size_t take = std::min<size_t>(bytes.size(), remaining_);
    current_.data.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    remaining_ -= static_cast<uint32_t>(take);
    if (remaining_ == 0) {
      out.push_back(std::move(current_));
      current_ = Packet{};
      in_packet_ = false;
    }
  }
  return out;
}

std::expected<Command, Error> parse_command(const Packet& p) {
  switch (p.command) {
    case command::kOptNeg: {
      MILTER_TRY(o, read_optneg(p));
      return o;
    }
    case command::kMacro:
      return read_macros(p);
    case command::kConnect:
      return read_connect(p);
    case command::kHelo:
      return read_one_string<Helo>(p, "HELO name");
    case command::kMail:
      return read_args<Mail>(p, "MAIL argument");
    case command::kRcpt:
      return read_args<Rcpt>(p, "RCPT argument");
    case command::kData:
      return empty<Data>(p);
    case command::kHeader: {
      Reader r(p.command, p.data);
      MILTER_TRY(h, read_header<Header>(r));
      return h;
    }
    case command::kEndOfHeaders:
      return empty<EndOfHeaders>(p);
    case command::kBody:
      return BodyChunk{p.data};
    case command::kEndOfBody:
      return EndOfBody{p.data};
    case command::kAbort:
      return empty<Abort>(p);
    case command::kQuit:
      return empty<Quit>(p);
    case command::kQuitNewConnection:
      return empty<QuitNewConnection>(p);
    case command::kUnknown:
      return read_one_string<Unknown>(p, "unknown command");
    default:
      return std::unexpected(error(Error::Kind::kUnknownCommand, p.command, {}));
  }
}

namespace {

std::string encode_optneg(char code, const OptNeg& o) {
  std::string d;
  put_u32(d, o.version);
  put_u32(d, o.actions);
  put_u32(d, o.protocol);
  return frame(code, d);
}

std::string join(const std::vector<std::string>& args) {
  std::string d;
  for (const auto& a : args) put_string(d, a);
  return d;
}

struct CommandEncoder {
  std::string operator()(const OptNeg& o) const { return encode_optneg(command::kOptNeg, o); }
  std::string operator()(const Macros& m) const {
    std::string d(1, m.for_command);
    for (const auto& [name, value] : m.pairs) {
      put_string(d, name);
      put_string(d, value);
    }
    return frame(command::kMacro, d);
  }
  std::string operator()(const Connect& c) const {
    std::string d;
    put_string(d, c.hostname);
    d += static_cast<char>(c.family);
    if (c.family != Family::kUnknown) {
      d += static_cast<char>(c.port >> 8);
      d += static_cast<char>(c.port & 0xff);
      put_string(d, c.address);
    }
    return frame(command::kConnect, d);
  }
  std::string operator()(const Helo& h) const {
    std::string d;
    put_string(d, h.name);
    return frame(command::kHelo, d);
  }
  std::string operator()(const Mail& m) const { return frame(command::kMail, join(m.args)); }
  std::string operator()(const Rcpt& r) const { return frame(command::kRcpt, join(r.args)); }
  std::string operator()(const Data&) const { return frame(command::kData, {}); }
  std::string operator()(const Header& h) const {
    std::string d;
    put_string(d, h.name);
    put_string(d, h.value);
    return frame(command::kHeader, d);
  }
  std::string operator()(const EndOfHeaders&) const { return frame(command::kEndOfHeaders, {}); }
  std::string operator()(const BodyChunk& b) const { return frame(command::kBody, b.data); }
  std::string operator()(const EndOfBody& e) const { return frame(command::kEndOfBody, e.data); }
  std::string operator()(const Abort&) const { return frame(command::kAbort, {}); }
  std::string operator()(const Quit&) const { return frame(command::kQuit, {}); }
  std::string operator()(const QuitNewConnection&) const {
    return frame(command::kQuitNewConnection, {});
  }
  std::string operator()(const Unknown& u) const {
    std::string d;
    put_string(d, u.line);
    return frame(command::kUnknown, d);
  }
};

}  // namespace

std::string encode_command(const Command& c) {
  return std::visit(CommandEncoder{}, c);
}

std::expected<OptNeg, Error> negotiate(const OptNeg& offer) {
  if (offer.version < kVersion) {
    return std::unexpected(error(Error::Kind::kBadVersion, command::kOptNeg,
                                 "MTA speaks version " + std::to_string(offer.version) +
                                     ", filterd needs " + std::to_string(kVersion)));
  }
  if ((offer.actions & action::kAddHeaders) == 0) {
    return std::unexpected(
        error(Error::Kind::kBadVersion, command::kOptNeg, "MTA does not allow adding headers"));
  }
  return OptNeg{kVersion, kWantedActions & offer.actions, kWantedProtocol & offer.protocol};
}

bool expects_reply(char c, uint32_t p) {
  auto unless = [p](uint32_t flag) { return (p & flag) == 0; };
  switch (c) {
    case command::kOptNeg:
    case command::kEndOfBody:
      return true;
    case command::kConnect:
      return unless(protocol::kNoReplyConnect);
    case command::kHelo:
      return unless(protocol::kNoReplyHelo);
    case command::kMail:
      return unless(protocol::kNoReplyMail);
    case command::kRcpt:
      return unless(protocol::kNoReplyRcpt);
    case command::kData:
      return unless(protocol::kNoReplyData);
    case command::kHeader:
      return unless(protocol::kNoReplyHeader);
    case command::kEndOfHeaders:
      return unless(protocol::kNoReplyEndOfHeaders);
    case command::kBody:
      return unless(protocol::kNoReplyBody);
    case command::kUnknown:
      return unless(protocol::kNoReplyUnknown);
    default:  // macros, abort, quit, quit-nc
      return false;
  }
}

// --- Replies -------------------------------------------------------------

namespace {

std::expected<std::string, Error> header_packet(char code, const uint32_t* index,
                                                std::string_view name, std::string_view value) {
  if (auto ok = check_header(code, name, value); !ok) return std::unexpected(ok.error());
  std::string d;
  if (index != nullptr) put_u32(d, *index);
  put_string(d, name);
  put_string(d, value);
  return frame(code, d);
}

struct ReplyEncoder {
  using Result = std::expected<std::string, Error>;
  Result operator()(const Continue&) const { return frame(reply::kContinue, {}); }
  Result operator()(const Accept&) const { return frame(reply::kAccept, {}); }
  Result operator()(const Reject&) const { return frame(reply::kReject, {}); }
  Result operator()(const Tempfail&) const { return frame(reply::kTempfail, {}); }
  Result operator()(const Discard&) const { return frame(reply::kDiscard, {}); }
  Result operator()(const Progress&) const { return frame(reply::kProgress, {}); }
  Result operator()(const ReplyCode& r) const {
    if (auto ok = check_reply_line(r.line); !ok) return std::unexpected(ok.error());
    std::string d;
    put_string(d, r.line);
    return frame(reply::kReplyCode, d);
  }
  Result operator()(const AddHeader& h) const {
    return header_packet(reply::kAddHeader, nullptr, h.name, h.value);
  }
  Result operator()(const InsertHeader& h) const {
    return header_packet(reply::kInsertHeader, &h.index, h.name, h.value);
  }
  Result operator()(const ChangeHeader& h) const {
    if (h.index == 0) {
      return std::unexpected(
          error(Error::Kind::kBadValue, reply::kChangeHeader, "header index counts from 1"));
    }
    return header_packet(reply::kChangeHeader, &h.index, h.name, h.value);
  }
  Result operator()(const ReplaceBody& b) const {
    if (b.chunk.size() > kBodyChunk) {
      return std::unexpected(error(Error::Kind::kBadValue, reply::kReplaceBody,
                                   "body chunk of " + std::to_string(b.chunk.size()) + " bytes"));
    }
    return frame(reply::kReplaceBody, b.chunk);
  }
  Result operator()(const Quarantine& q) const {
    const char c = reply::kQuarantine;
    if (auto ok = check_no_nul(c, q.reason, "quarantine reason"); !ok) {
      return std::unexpected(ok.error());
    }
    if (q.reason.empty()) return std::unexpected(error(Error::Kind::kBadValue, c, "no reason"));
    if (std::ranges::any_of(q.reason, [](char ch) { return is_control(ch); })) {
      return std::unexpected(error(Error::Kind::kBadValue, c, "control character in reason"));
    }
    std::string d;
    put_string(d, q.reason);
    return frame(c, d);
  }
  Result operator()(const OptNeg& o) const { return encode_optneg(reply::kOptNeg, o); }
  Result operator()(const AddRcpt& r) const { return rcpt_packet(reply::kAddRcpt, r.address); }
  Result operator()(const DeleteRcpt& r) const {
    return rcpt_packet(reply::kDeleteRcpt, r.address);
  }

 private:
  static Result rcpt_packet(char c, std::string_view address) {
    if (auto ok = check_no_nul(c, address, "recipient"); !ok) return std::unexpected(ok.error());
    if (address.empty()) return std::unexpected(error(Error::Kind::kBadValue, c, "no recipient"));
    if (std::ranges::any_of(address, [](char ch) { return is_control(ch); })) {
      return std::unexpected(error(Error::Kind::kBadValue, c, "control character in recipient"));
    }
    std::string d;
    put_string(d, address);
    return frame(c, d);
  }
};

template <typename T>
std::expected<Reply, Error> empty_reply(const Packet& p) {
  MILTER_CHECK(no_data(p));
  return T{};
}

template <typename T>
std::expected<Reply, Error> indexed_header(const Packet& p) {
  Reader r(p.command, p.data);
  MILTER_TRY(index, r.u32("header index"));
  MILTER_TRY(h, read_header<Header>(r));
  return T{index, std::move(h.name), std::move(h.value)};
}

}  // namespace

std::expected<std::string, Error> encode_reply(const Reply& r) {
  return std::visit(ReplyEncoder{}, r);
}

std::expected<Reply, Error> parse_reply(const Packet& p) {
  switch (p.command) {
    case reply::kContinue:
      return empty_reply<Continue>(p);
    case reply::kAccept:
      return empty_reply<Accept>(p);
    case reply::kReject:
      return empty_reply<Reject>(p);
    case reply::kTempfail:
      return empty_reply<Tempfail>(p);
    case reply::kDiscard:
      return empty_reply<Discard>(p);
    case reply::kProgress:
      return empty_reply<Progress>(p);
    case reply::kReplyCode: {
      Reader r(p.command, p.data);
      MILTER_TRY(line, r.string("reply"));
      MILTER_CHECK(r.end());
      return ReplyCode{std::move(line)};
    }
    case reply::kAddHeader: {
      Reader r(p.command, p.data);
      MILTER_TRY(h, read_header<AddHeader>(r));
      return h;
    }
    case reply::kInsertHeader:
      return indexed_header<InsertHeader>(p);
    case reply::kChangeHeader:
      return indexed_header<ChangeHeader>(p);
    case reply::kReplaceBody:
      return ReplaceBody{p.data};
    case reply::kQuarantine: {
      Reader r(p.command, p.data);
      MILTER_TRY(reason, r.string("quarantine reason"));
      MILTER_CHECK(r.end());
      return Quarantine{std::move(reason)};
    }
    case reply::kOptNeg: {
      MILTER_TRY(o, read_optneg(p));
      return o;
    }
    case reply::kAddRcpt: {
      Reader r(p.command, p.data);
      MILTER_TRY(address, r.string("recipient"));
      MILTER_CHECK(r.end());
      return AddRcpt{std::move(address)};
    }
    case reply::kDeleteRcpt: {
      Reader r(p.command, p.data);
      MILTER_TRY(address, r.string("recipient"));
      MILTER_CHECK(r.end());
      return DeleteRcpt{std::move(address)};
    }
    default:
      return std::unexpected(error(Error::Kind::kUnknownCommand, p.command, {}));
  }
}

std::expected<ReplyCode, Error> reply_code(int code, std::string_view status,
                                           std::string_view text) {
  const char c = reply::kReplyCode;
  if (code < 400 || code > 599) {
    return std::unexpected(
        error(Error::Kind::kBadValue, c, "reply code " + std::to_string(code) + " not 4xx/5xx"));
  }
  const char cls = static_cast<char>('0' + code / 100);
  std::string line = std::to_string(code) + ' ';
  if (status.empty()) {
    line += cls;
    line += ".0.0";  // Postfix requires an enhanced status code
  } else if (status_length(status, cls) == status.size()) {
    line += status;
  } else {
    return std::unexpected(
        error(Error::Kind::kBadValue, c,
              "status " + spaced(status) + " does not fit " + std::to_string(code)));
  }
  if (!text.empty()) {
    line += ' ';
    // Sendmail reads the text as a format string, Postfix undoes the
    // doubling: "%%" is a literal '%' for both.
    for (char ch : spaced(text)) {
      line += ch;
      if (ch == '%') line += '%';
    }
  }
  return ReplyCode{std::move(line)};
}

Quarantine quarantine(std::string_view reason) {
  return Quarantine{reason.empty() ? std::string("quarantined by filterd") : spaced(reason)};
}

std::string rcpt_address(std::string_view address) {
  if (address.starts_with('<') && address.ends_with('>') && address.size() >= 2) {
    return std::string(address);
  }
  return "<" + std::string(address) + ">";
}

std::string replace_body(std::string_view body) {
  std::string out;
  do {
    std::string_view chunk = body.substr(0, kBodyChunk);
    out += frame(reply::kReplaceBody, chunk);
    body.remove_prefix(chunk.size());
  } while (!body.empty());
  return out;
}

}  // namespace filterd::milter
