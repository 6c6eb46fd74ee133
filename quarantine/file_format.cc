// file_format.cc — see file_format.h.
#include "quarantine/file_format.h"

#include <fmt/format.h>

#include <ctime>

#include "policy/mail_text.h"

namespace filterd::quarantine {
namespace {

constexpr size_t kIdLength = 12;
constexpr std::string_view kGzSuffix = ".gz";
// The prepended fields, in file order. X-Envelope-To alone is folded; the
// verdict comes last and is never folded, so its line end is the end of the
// prepended block.
constexpr std::string_view kReturnPath = "Return-Path:";
constexpr std::string_view kEnvelopeFrom = "X-Envelope-From:";
constexpr std::string_view kEnvelopeTo = "X-Envelope-To:";
constexpr std::string_view kQuarantineId = "X-Quarantine-ID:";
constexpr std::string_view kVerdict = "X-Filterd-Verdict:";
constexpr std::string_view kFieldOrder[] = {kReturnPath, kEnvelopeFrom, kEnvelopeTo, kQuarantineId,
                                            kVerdict};

bool id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::string angle(std::string_view address) {
  return "<" + policy::one_line_utf8(address, kMaxFieldValue) + ">";
}

bool starts_with_field(std::string_view line, std::string_view name) {
  return line.starts_with(name) && (line.size() == name.size() || line[name.size()] == ' ');
}

}  // namespace

bool valid_id(std::string_view id) {
  if (id.size() != kIdLength) return false;
  for (char c : id)
    if (!id_char(c)) return false;
  return true;
}

std::string hour_dir(int64_t time) {
  std::time_t t = static_cast<std::time_t>(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}/{:02}/{:02}/{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour);
}

int64_t hour_start(std::string_view dir) {
  if (dir.size() != 13 || dir[4] != '/' || dir[7] != '/' || dir[10] != '/') return -1;
  std::string_view y = dir.substr(0, 4), mo = dir.substr(5, 2), d = dir.substr(8, 2),
                   h = dir.substr(11, 2);
  if (!digits(y) || !digits(mo) || !digits(d) || !digits(h)) return -1;
  std::tm tm{};
  tm.tm_year = std::stoi(std::string(y)) - 1900;
  tm.tm_mon = std::stoi(std::string(mo)) - 1;
  tm.tm_mday = std::stoi(std::string(d));
  tm.tm_hour = std::stoi(std::string(h));
  int64_t t = timegm(&tm);
  return hour_dir(t) == dir ? t : -1;  // rejects 2026/02/30 and the like
}

std::string relative_path(std::string_view mail_id, int64_t time, bool gzip) {
  std::string p = hour_dir(time) + "/" + std::string(mail_id);
  if (gzip) p += kGzSuffix;
  return p;
}

bool valid_relative_path(std::string_view path) {
  if (path.ends_with(kGzSuffix)) path.remove_suffix(kGzSuffix.size());
  if (path.size() != 14 + kIdLength || path[13] != '/') return false;
  return hour_start(path.substr(0, 13)) >= 0 && valid_id(path.substr(14));
}

std::string prepended_fields(const Entry& e, std::string_view message) {
  size_t lf = message.find('\n');
  std::string_view eol = lf != std::string_view::npos && lf > 0 && message[lf - 1] == '\r'
                             ? std::string_view("\r\n")
                             : std::string_view("\n");
  std::string out;
  out.reserve(max_prepended_size(e));
  auto field = [&](std::string_view name, std::string_view value) {
    out.append(name).append(" ").append(value).append(eol);
  };
  field(kReturnPath, angle(e.sender));
  field(kEnvelopeFrom, angle(e.sender));
  out.append(kEnvelopeTo);
  for (size_t i = 0; i < e.recipients.size(); ++i) {
    out.append(" ").append(angle(e.recipients[i]));
    if (i + 1 < e.recipients.size()) out.append(",").append(eol);
  }
  out.append(eol);
  field(kQuarantineId, angle(e.mail_id));
  std::string verdict = policy::one_line_utf8(e.category, kMaxCategory);
  if (!e.reason.empty()) verdict += " (" + policy::one_line_utf8(e.reason, kMaxFieldValue) + ")";
  field(kVerdict, verdict);
  return out;
}

size_t max_prepended_size(const Entry& e) {
  constexpr size_t kLine = 32 + kMaxCategory + kMaxFieldValue;  // name, brackets, CRLF, "()"
  return (5 + e.recipients.size()) * kLine;
}

std::expected<std::string_view, std::string> strip_prepended(std::string_view content) {
  size_t pos = 0, field = 0;
  while (field < std::size(kFieldOrder)) {
    size_t lf = content.find('\n', pos);
    if (lf == std::string_view::npos)
      return std::unexpected("the prepended fields end without a line end");
    std::string_view line = content.substr(pos, lf - pos);
    bool continuation = field > 0 && kFieldOrder[field - 1] == kEnvelopeTo &&
                        (line.starts_with(' ') || line.starts_with('\t'));
    if (!continuation) {
      if (!starts_with_field(line, kFieldOrder[field]))
        return std::unexpected(
            fmt::format("expected field {} at byte {}", kFieldOrder[field], pos));
      ++field;
    }
    pos = lf + 1;
  }
  return content.substr(pos);
}

}  // namespace filterd::quarantine
