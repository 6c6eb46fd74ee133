// embedded_files.h — the files filterd ships in etc/ (banned rules, notice
// templates), compiled in so that the built-in defaults need no installed
// files. An admin's own files, named in the config, replace them.
#pragma once

#include <expected>
#include <map>
#include <string>
#include <string_view>

#include "policy/notify.h"

namespace filterd::embedded {

// Path relative to the source tree ("etc/banned.rules") -> content.
extern const std::map<std::string_view, std::string_view> kFiles;

// etc/banned.rules as shipped.
std::string_view banned_rules();

// The shipped templates of language `lang` ("en", "ja").
std::expected<policy::TemplateSet, std::string> templates(std::string_view lang);

}  // namespace filterd::embedded
