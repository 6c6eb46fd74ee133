// rules_replace.cc — SpamAssassin's ReplaceTags plugin on one pattern:
// "<inter W2><post P3>(?!viagra)<V><I><A>" has its <pre/post/inter NAME>
// markers removed, then each <TAG> replaced by its replace_tag, with the
// named replace_pre before and replace_post after each tag and the
// replace_inter between adjacent tags. Mirrors finish_parsing_end,
// including its hard-coded '<' '>' split and its bounded re-passes for tags
// that produce tags.
#include <optional>

#include "spam/rules_internal.h"

namespace filterd::spam::detail {
namespace {

// Passes after the first, as ReplaceTags.pm: `while $doagain && $passes <= 5`.
constexpr int kMaxExtraPasses = 5;

// The first "START.+?END" in s at or after `from`: {begin, end} or nullopt.
std::optional<std::pair<size_t, size_t>> find_tag(std::string_view s, size_t from,
                                                  const std::string& start,
                                                  const std::string& end) {
  for (size_t a = s.find(start, from); a != std::string_view::npos; a = s.find(start, a + 1)) {
    size_t b = s.find(end, a + start.size() + 1);
    if (b == std::string_view::npos) return std::nullopt;
    return std::pair{a, b + end.size()};
  }
  return std::nullopt;
}

// s/START<keyword> (.+?)END//: removes the first marker, returns its name.
std::optional<std::string> take_marker(std::string& re, std::string_view keyword,
                                       const ConfigState& st) {
  std::string open = st.replace_start + std::string(keyword) + " ";
  size_t a = re.find(open);
  if (a == std::string::npos) return std::nullopt;
  size_t b = re.find(st.replace_end, a + open.size() + 1);
  if (b == std::string::npos) return std::nullopt;
  std::string name = re.substr(a + open.size(), b - a - open.size());
  re.erase(a, b + st.replace_end.size() - a);
  return name;
}

// Perl's split(/(<[^<>]+>)/, $re): text and tags alternating, a leading
// empty field kept, trailing empty fields dropped.
std::vector<std::string> split_tags(std::string_view re) {
  std::vector<std::string> out;
  size_t text_from = 0;
  for (size_t i = 0; i < re.size(); ++i) {
    if (re[i] != '<') continue;
    size_t j = i + 1;
    while (j < re.size() && re[j] != '<' && re[j] != '>') ++j;
    if (j < re.size() && re[j] == '>' && j > i + 1) {
      out.emplace_back(re.substr(text_from, i - text_from));
      out.emplace_back(re.substr(i, j + 1 - i));
      text_from = j + 1;
      i = j;
    }
  }
  out.emplace_back(re.substr(text_from));
  while (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

const std::string* lookup(const std::map<std::string, std::string, std::less<>>& m,
                          const std::optional<std::string>& name) {
  if (!name || name->empty()) return nullptr;
  auto it = m.find(*name);
  return it == m.end() || it->second.empty() ? nullptr : &it->second;
}

// /<[^>]+>/: does a replacement bring tags of its own?
bool has_angle_tag(std::string_view s) {
  for (size_t i = s.find('<'); i != std::string_view::npos; i = s.find('<', i + 1)) {
    size_t b = s.find('>', i + 1);
    if (b != std::string_view::npos && b > i + 1) return true;
  }
  return false;
}

}  // namespace

std::string replace_tags(std::string_view source, const ConfigState& st) {
  const std::string& S = st.replace_start;
  const std::string& E = st.replace_end;
  std::string re(source);
  int passes = 0;
  bool again;
  do {
    again = false;
    const std::string* pre = lookup(st.replace_pre, take_marker(re, "pre", st));
    const std::string* post = lookup(st.replace_post, take_marker(re, "post", st));
    const std::string* inter = lookup(st.replace_inter, take_marker(re, "inter", st));
    std::vector<std::string> pieces = split_tags(re);
    if (pre) {
      for (auto& p : pieces)
        if (auto t = find_tag(p, 0, S, E)) p.insert(t->first, *pre);
    }
    if (post) {
      for (auto& p : pieces) {
        for (auto t = find_tag(p, 0, S, E); t; t = find_tag(p, t->second + post->size(), S, E))
          p.insert(t->second, *post);
      }
    }
    if (inter) {
      for (auto& p : pieces)
        if (p.empty()) p = *inter;
    }
    for (auto& p : pieces) {
      auto t = find_tag(p, 0, S, E);
      if (!t) continue;
      std::string name = p.substr(t->first + S.size(), t->second - t->first - S.size() - E.size());
      auto it = st.replace_tag.find(name);
      if (name.empty() || it == st.replace_tag.end() || it->second.empty()) continue;
      const std::string whole = S + name + E;
      for (size_t at = p.find(whole); at != std::string::npos;
           at = p.find(whole, at + it->second.size())) {
        p.replace(at, whole.size(), it->second);
      }
      if (!again && has_angle_tag(it->second)) again = true;
    }
    re.clear();
    for (const auto& p : pieces) re += p;
    ++passes;
  } while (again && passes <= kMaxExtraPasses);
  return re;
}

}  // namespace filterd::spam::detail
