// eval_header.cc — Mail::SpamAssassin::Plugin::HeaderEval's tests.
#include <cctype>
#include <regex>

#include "spam/eval_internal.h"

namespace filterd::spam::eval {
namespace {

std::string get(const EvalContext& c, std::string_view request) {
  return c.text.get(request).value_or("");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

// A message without To: (or Apparently-To:).
double check_for_missing_to_header(const EvalContext& c, Args) {
  return get(c, "To").empty() && get(c, "Apparently-To").empty() ? 1 : 0;
}

// A subject of at least two words and ten characters whose letters are all
// upper case; reply/forward prefixes do not count, and subjects in charsets
// that have no case (Constants::CHARSETS_LIKELY_TO_FP_AS_CAPS) never hit.
double subject_is_all_caps(const EvalContext& c, Args) {
  static const std::regex kPrefix(R"(^(?:(?:Re|Fwd|Fw|Aw|Antwort|WG|SV|VB|VS|VL):\s*)+)",
                                  std::regex::icase);
  static const std::regex kNoCaseCharset(
      R"(=\?[-_a-z0-9]*(?:koi|jp|jis|euc|gb|big5|isoir|cp1251|windows-1251|georgianps|pt154|tis)[-_a-z0-9]*\?)",
      std::regex::icase);
  const std::string full = get(c, "Subject");
  std::string subject(trim(full));
  subject = std::regex_replace(subject, kPrefix, "", std::regex_constants::format_first_only);
  if (subject.find_first_of(" \t\r\n\f\v") == std::string::npos || subject.size() < 10) return 0;
  if (std::regex_search(get(c, "Subject:raw"), kNoCaseCharset)) return 0;
  bool letters = false;
  for (unsigned char ch : subject) {
    if (!std::isalpha(ch)) continue;
    letters = true;
    if (std::islower(ch)) return 0;
  }
  return letters ? 1 : 0;
}

}  // namespace filterd::spam::eval
