// embedded_files.cc — see embedded_files.h. The data is generated into
// embedded_files_data.cc by cmake/embed.cmake.
#include "filterd/embedded_files.h"

namespace filterd::embedded {
namespace {

std::expected<std::string_view, std::string> file(const std::string& path) {
  auto it = kFiles.find(path);
  if (it == kFiles.end()) return std::unexpected("builtin " + path + ": not compiled in");
  return it->second;
}

}  // namespace

std::string_view banned_rules() {
  return file("etc/banned.rules").value_or("");
}

std::expected<policy::TemplateSet, std::string> templates(std::string_view lang) {
  const std::string dir = "etc/templates/" + std::string(lang) + "/";
  policy::TemplateSet set;
  struct Slot {
    const char* name;
    policy::Template* into;
  };
  for (const Slot& s :
       {Slot{"admin_notice", &set.admin_notice}, Slot{"recipient_warning", &set.recipient_warning},
        Slot{"sender_dsn", &set.sender_dsn}}) {
    auto text = file(dir + s.name);
    if (!text) return std::unexpected(text.error());
    auto t = policy::parse_template(*text, "builtin " + dir + s.name);
    if (!t) return std::unexpected(t.error());
    *s.into = std::move(*t);
  }
  auto texts = file(dir + "categories");
  if (!texts) return std::unexpected(texts.error());
  auto parsed = policy::parse_category_texts(*texts, "builtin " + dir + "categories");
  if (!parsed) return std::unexpected(parsed.error());
  set.category_texts = std::move(*parsed);
  return set;
}

}  // namespace filterd::embedded
