// eval_mime.cc — Mail::SpamAssassin::Plugin::MIMEEval's tests over the
// per-message MIME facts (EvalContext::mime(), mime_facts.h).
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "spam/eval_internal.h"
#include "spam/eval_util.h"
#include "spam/perl_re.h"

namespace filterd::spam::eval {
namespace {

double num(const std::string& s) {
  return std::atof(s.c_str());
}

// Util::get_my_locales(ok_locales): the ok_locales setting (default
// "all"); filterd adds no process locale (SpamAssassin adds $LC_ALL etc.,
// which is "C" = English, adding no charsets, in a daemon's environment).
std::vector<std::string> my_locales(const EvalContext& c) {
  std::string setting = "all";
  if (auto it = c.rules.settings.find("ok_locales");
      it != c.rules.settings.end() && !it->second.empty())
    setting = it->second.back();
  std::vector<std::string> out;
  size_t b = 0;
  while (b < setting.size()) {
    while (b < setting.size() && std::isspace(static_cast<unsigned char>(setting[b]))) ++b;
    size_t e = b;
    while (e < setting.size() && !std::isspace(static_cast<unsigned char>(setting[e]))) ++e;
    if (e > b) out.push_back(setting.substr(b, e - b));
    b = e;
  }
  return out;
}

bool all_locales(const std::vector<std::string>& locales) {
  return std::ranges::find(locales, "all") != locales.end();
}

// Locales::is_charset_ok_for_locales.
bool charset_ok_for_locales(std::string_view charset, const std::vector<std::string>& locales) {
  std::string cs;
  for (char ch : charset) {
    const char u = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if ((u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9')) cs += u;
  }
  while (cs.starts_with("3D")) cs.erase(0, 2);
  if (cs == "USASCII" || cs == "ASCII" || cs.starts_with("ISO8859") || cs.starts_with("ISO10646") ||
      cs.starts_with("UTF") || cs.starts_with("UCS") || cs.starts_with("CP125") ||
      cs.starts_with("WINDOWS") || cs == "IBM852" || cs.starts_with("UNICODE11UTF7") ||
      cs.starts_with("UNICODE11UTF8") || cs == "XUNKNOWN" || cs == "ISO")
    return true;
  static const std::pair<std::string_view, std::string_view> kTable[] = {
      {"ja",
       "EUCJP JISX020119760 JISX020819830 JISX020819900 JISX020819970 JISX021219900 "
       "JISX021320001 JISX021320002 SHIFT_JIS SHIFTJIS ISO2022JP SJIS JIS7 JISX0201 JISX0208 "
       "JISX0212"},
      {"ko", "EUCKR KSC56011987"},
      {"ru", "KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS CP1251 PT154 CP866"},
      {"ka", "KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS CP1251 PT154 CP866"},
      {"tg", "KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS CP1251 PT154 CP866"},
      {"be", "KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS CP1251 PT154 CP866"},
      {"uk", "KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS CP1251 PT154 CP866"},
      {"bg", "KOI8R KOI8U KOI8T ISOIR111 CP1251 GEORGIANPS CP1251 PT154 CP866"},
      {"th", "TIS620"},
      {"zh", "GB1988 GB2312 GB231219800 GB18030 GBK BIG5HKSCS BIG5 EUCTW ISO2022CN"},
  };
  for (std::string loc : locales) {
    if (loc == "C") loc = "en";
    if (loc.size() >= 2 && std::islower(static_cast<unsigned char>(loc[0])) &&
        std::islower(static_cast<unsigned char>(loc[1])))
      loc.resize(2);
    for (const auto& [name, list] : kTable) {
      if (name != loc) continue;
      size_t b = 0;
      while (b < list.size()) {
        size_t e = list.find(' ', b);
        if (e == std::string_view::npos) e = list.size();
        if (list.substr(b, e - b) == cs) return true;
        b = e + 1;
      }
    }
  }
  return false;
}

// MIMEEval::get_charset_from_ct_line over PerMsgStatus::get('Content-Type').
std::optional<std::string> charset_from_ct(const EvalContext& c) {
  static const PerlRe dq(R"re(charset="([^"]+)")re", "i"), sq(R"re(charset='([^']+)')re", "i"),
      bare(R"re(charset=(\S+))re", "i");
  const auto type = c.text.get("Content-Type");
  if (!type) return std::nullopt;
  std::vector<std::string> g;
  for (const PerlRe* re : {&dq, &sq, &bare})
    if (re->search(*type, g)) return g[1];
  return std::nullopt;
}

bool faraway(const EvalContext& c) {
  const auto locales = my_locales(c);
  if (all_locales(locales)) return false;
  return std::ranges::any_of(c.mime().charsets, [&](const std::string& cs) {
    return !charset_ok_for_locales(cs, locales);
  });
}

bool content_type_html(const EvalContext& c) {
  const std::string ct = lower(get(c, "Content-Type"));
  return ct.starts_with("text/html");
}

}  // namespace

// check_for_mime(name): the _check_attachments fact `name` is true.
double check_for_mime(const EvalContext& c, Args args) {
  if (args.empty()) return 0;
  const MimeFacts& f = c.mime();
  const std::string& t = args.back();
  if (t == "mime_base64_count") return f.base64_count > 0;
  if (t == "mime_base64_encoded_text") return f.base64_encoded_text;
  if (t == "mime_body_html_count") return f.body_html_count > 0;
  if (t == "mime_body_text_count") return f.body_text_count > 0;
  if (t == "mime_faraway_charset") return faraway(c);
  if (t == "mime_missing_boundary") return f.missing_boundary;
  if (t == "mime_multipart_alternative") return f.multipart_alternative;
  if (t == "mime_multipart_ratio") return f.multipart_ratio != 0;
  if (t == "mime_qp_count") return f.qp_count != 0;
  if (t == "mime_qp_long_line") return f.qp_long_line;
  if (t == "mime_qp_ratio") return f.qp_ratio != 0;
  if (t == "mime_ascii_text_illegal") return f.ascii_text_illegal > 0;
  if (t == "mime_text_unicode_ratio") return f.text_unicode_ratio != 0;
  if (t == "mime_attachment") return f.attachment > 0;
  if (t == "mime_bad_iso_charset") return f.bad_iso_charset;
  if (t == "mime_html_charsets") return !f.charsets.empty();
  return 0;  // never set (mimepart_limit_exceeded lives on the message)
}

double check_for_mime_html(const EvalContext& c, Args) {
  if (content_type_html(c)) return 1;
  return c.mime().body_html_count > 0;
}

double check_for_mime_html_only(const EvalContext& c, Args) {
  if (content_type_html(c)) return 1;
  const MimeFacts& f = c.mime();
  return f.body_html_count > 0 && f.body_text_count == 0;
}

double check_mime_multipart_ratio(const EvalContext& c, Args args) {
  if (args.size() < 2) return 0;
  const double r = c.mime().multipart_ratio;
  return r >= num(args[0]) && r < num(args[1]);
}

// check_msg_parse_flags(name): Message.pm set the parse flag `name`.
double check_msg_parse_flags(const EvalContext& c, Args args) {
  if (args.empty()) return 0;
  const MimeFacts& f = c.mime();
  const std::string& t = args.back();
  if (t == "missing_head_body_separator") return f.missing_head_body_separator;
  if (t == "missing_mime_head_body_separator") return f.missing_mime_head_body_separator;
  if (t == "missing_mime_headers") return f.missing_mime_headers;
  if (t == "mime_epilogue_exists") return f.mime_epilogue_exists;
  if (t == "truncated_header") return f.truncated_header;
  if (t == "mimepart_limit_exceeded") return f.mimepart_limit_exceeded;
  return 0;
}

double check_for_ascii_text_illegal(const EvalContext& c, Args) {
  return c.mime().ascii_text_illegal > 0;
}

double check_abundant_unicode_ratio(const EvalContext& c, Args args) {
  if (args.empty()) return 0;
  static const PerlRe shape(R"(^\d{0,3}\.\d{1,3}$)");
  if (!shape.search(args.back())) return 0;
  return c.mime().text_unicode_ratio >= num(args.back());
}

// check_for_faraway_charset: the message's charset is not for ok_locales
// and the body has more non-ASCII than ASCII bytes (are_more_high_bits_set).
double check_for_faraway_charset(const EvalContext& c, Args) {
  const auto locales = my_locales(c);
  if (all_locales(locales)) return 0;
  const auto cs = charset_from_ct(c);
  if (!cs || charset_ok_for_locales(*cs, locales)) return 0;
  size_t high = 0, total = 0;
  for (size_t i = 0; i < c.text.body.size(); ++i) {
    const std::string& line = c.text.body[i];
    total += line.size() + (i > 0 ? 1 : 0);
    high += static_cast<size_t>(std::ranges::count_if(
        line, [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; }));
  }
  const size_t low = total - high;
  return low <= high && high > 3;
}

// check_for_uppercase(min, max): percentage of upper case letters among
// letters and digits in body lines with words, if at least 200 bytes.
double check_for_uppercase(const EvalContext& c, Args args) {
  if (args.size() < 2) return 0;
  const double min = num(args[0]), max = num(args[1]);
  // body_charset_is_likely_to_fp
  static const PerlRe fp_charset(
      R"(^[-_a-z0-9]*(?:koi|jp|jis|euc|gb|big5|isoir|cp1251|windows-1251|georgianps|pt154|tis)[-_a-z0-9]*$)",
      "i");
  std::vector<std::string> charsets = c.mime().charsets;
  if (auto cs = charset_from_ct(c)) charsets.push_back(*cs);
  for (const auto& cs : charsets)
    if (fp_charset.search(cs)) return 0;
  static const PerlRe words(R"(\S\s+\S)"), base64(R"(^(?:[A-Za-z0-9+/=]{60,76} ){2})"),
      iso2022(R"(\x1b\$B.*\x1b\(B)", "s");
  double len = 0, lower_n = 0, upper_n = 0;
  for (const std::string& l : c.text.body) {
    if (!words.search(l) || base64.search(l)) continue;
    std::string line = l;
    iso2022.replace(line, "", true);
    len += static_cast<double>(line.size());
    for (char ch : line) {
      if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
        ++lower_n;
      else if (ch >= 'A' && ch <= 'Z')
        ++upper_n;
    }
  }
  if (len < 200) return 0;
  const double pct = upper_n + lower_n == 0 ? 0 : upper_n / (upper_n + lower_n) * 100;
  return pct > min && pct <= max;
}

double check_ma_non_text(const EvalContext& c, Args) {
  return c.mime().ma_non_text;
}

// check_base64_length(min[, max]): the longest base64 line is >= min (and
// <= max).
double check_base64_length(const EvalContext& c, Args args) {
  if (args.empty()) return 0;
  const double len = static_cast<double>(c.mime().base64_length);
  if (args.size() >= 2 && len > num(args[1])) return 0;
  return len >= num(args[0]);
}

double check_qp_ratio(const EvalContext& c, Args args) {
  if (args.empty()) return 0;
  return c.mime().qp_ratio >= num(args.back());
}

}  // namespace filterd::spam::eval
