// rules_parse.cc — the line loop of Conf/Parser.pm parse(): comments,
// `lang`, conditionals, `include`, `require_version`, then one directive
// per line (rules_directives.cc). Also reading files and directories.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "spam/rules_internal.h"

namespace filterd::spam::detail {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Parser.pm: s/(?<!\\)#.*$//; s/\\#/#/g
std::string strip_comment(std::string_view raw) {
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '#' && (i == 0 || raw[i - 1] != '\\')) {
      raw = raw.substr(0, i);
      break;
    }
  }
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size() && raw[i + 1] == '#') continue;
    out += raw[i];
  }
  return out;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  }
  return true;
}

std::string version_string(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

struct Conditional {
  bool skip_before;  // the skip state when the block opened
  int line;
  std::string type;  // "if", "ifplugin"
};

}  // namespace

void parse_text(ConfigState& st, std::string_view text, const std::string& file, int depth) {
  std::vector<Conditional> stack;
  bool skip = false;
  int lineno = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++lineno;
    const Where where{file, lineno};

    std::string stripped = strip_comment(raw);
    std::string_view line = trim(stripped);
    if (line.empty()) continue;

    // "lang xx directive": only for a matching language.
    if (line.starts_with("lang") && line.size() > 4 && is_space(line[4])) {
      std::string_view rest = trim(line.substr(4));
      size_t sp = 0;
      while (sp < rest.size() && !is_space(rest[sp])) ++sp;
      if (sp < rest.size()) {
        if (!starts_with_nocase(st.options.lang, rest.substr(0, sp))) continue;
        line = trim(rest.substr(sp));
      }
    }

    size_t sp = 0;
    while (sp < line.size() && !is_space(line[sp])) ++sp;
    std::string key(line.substr(0, sp));
    for (char& c : key)
      c = c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = trim(line.substr(sp));

    if (key == "endif") {
      if (!value.empty()) {
        st.diagnose(where, "", "conditional", "'endif' must be standalone");
      } else if (stack.empty()) {
        st.diagnose(where, "", "conditional", "'endif' without 'if'");
      } else {
        skip = stack.back().skip_before;
        stack.pop_back();
      }
      continue;
    }
    if (key == "if" || key == "ifplugin") {
      if (value.empty()) {
        st.diagnose(where, "", "conditional", "missing '" + key + "' condition");
        continue;
      }
      stack.push_back({skip, lineno, key});
      bool holds = false;
      if (key == "ifplugin") {
        holds = st.plugin_available(value);
      } else if (auto r = evaluate_condition(value, st)) {
        holds = *r;
      } else {
        st.diagnose(
            where, "", "conditional",
            "cannot evaluate '" + std::string(value) + "': " + r.error() + " (taken as false)");
      }
      if (!holds) skip = true;
      continue;
    }
    if (key == "else") {
      if (!value.empty()) {
        st.diagnose(where, "", "conditional", "'else' must be standalone");
      } else if (stack.empty()) {
        st.diagnose(where, "", "conditional", "'else' without 'if'");
      } else {
        // Parser.pm (bug 7848): inside a skipped block, stay skipped.
        bool outer_skipped = std::any_of(stack.begin(), stack.end(),
                                         [](const Conditional& c) { return c.skip_before; });
        skip = outer_skipped ? true : !skip;
      }
      continue;
    }
    if (skip) continue;

    if (key == "include") {
      if (value.empty()) {
        st.diagnose(where, "", "include", "missing file name");
        continue;
      }
      std::filesystem::path p(std::string{value});
      if (p.is_relative()) p = std::filesystem::path(file).parent_path() / p;
      if (depth + 1 > kMaxIncludeDepth) {
        st.diagnose(where, "", "include",
                    "'" + p.string() + "' nested more than " + std::to_string(kMaxIncludeDepth) +
                        " deep, not read");
        continue;
      }
      parse_file(st, p.lexically_normal().string(), depth + 1, &where);
      continue;
    }
    if (key == "require_version") {
      if (value == "@@VERSION@@") continue;  // not replaced at install: the running version
      if (value != version_string(st.options.version)) {
        st.diagnose(where, "", "require_version",
                    "file requires version " + std::string(value) + ", emulating " +
                        version_string(st.options.version) + ": rest of file skipped");
        skip = true;
      }
      continue;
    }
    if (!apply_directive(st, key, value, where)) {
      ++st.out.ignored_directives[key];
      st.out.settings[std::string(key)].emplace_back(value);
    }
  }
  for (const auto& c : stack) {
    st.diagnose({file, c.line}, "", "conditional", "unclosed '" + c.type + "'");
  }
}

void parse_file(ConfigState& st, const std::string& path, int depth, const Where* from) {
  if (!st.files_read.insert(path).second) return;  // SpamAssassin reads a file once
  const Where at = from ? *from : Where{path, 0};
  const std::string prefix = from ? path + ": " : "";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    st.diagnose(at, "", "file", prefix + std::strerror(errno));
    return;
  }
  std::string text;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    if (text.size() + static_cast<size_t>(n) > kMaxRuleFileBytes) {
      ::close(fd);
      st.diagnose(at, "", "file",
                  prefix + "larger than " + std::to_string(kMaxRuleFileBytes) + " bytes, not read");
      return;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  int err = errno;
  ::close(fd);
  if (n < 0) {
    st.diagnose(at, "", "file", prefix + std::strerror(err));
    return;
  }
  st.out.files.push_back(path);
  parse_text(st, text, path, depth);
}

}  // namespace filterd::spam::detail

namespace filterd::spam {

RuleSet parse_rules(std::string_view text, std::string_view origin, const LoadOptions& options) {
  detail::ConfigState st(options);
  std::string file(origin);
  st.files_read.insert(file);
  st.out.files.push_back(file);
  detail::parse_text(st, text, file, 0);
  return detail::finish(st);
}

RuleSet load_rule_files(const std::vector<std::string>& paths, const LoadOptions& options) {
  detail::ConfigState st(options);
  for (const auto& p : paths) detail::parse_file(st, p, 0, nullptr);
  return detail::finish(st);
}

std::vector<std::string> rule_dir_files(const std::vector<std::string>& dirs) {
  auto list = [](const std::string& dir, std::string_view ext) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      std::string name = e.path().filename().string();
      if (name.size() > ext.size() && name.ends_with(ext) && e.is_regular_file(ec))
        names.push_back(name);
    }
    std::sort(names.begin(), names.end());  // Perl's sort: bytewise
    for (auto& n : names) n = (std::filesystem::path(dir) / n).string();
    return names;
  };
  std::vector<std::string> files;
  for (const auto& d : dirs) {
    auto pre = list(d, ".pre");
    files.insert(files.end(), pre.begin(), pre.end());
  }
  for (const auto& d : dirs) {
    auto cf = list(d, ".cf");
    files.insert(files.end(), cf.begin(), cf.end());
  }
  return files;
}

RuleSet load_rule_dirs(const std::vector<std::string>& dirs, const LoadOptions& options) {
  return load_rule_files(rule_dir_files(dirs), options);
}

}  // namespace filterd::spam
