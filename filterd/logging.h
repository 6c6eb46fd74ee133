// logging.h — sets up spdlog from the `log` and `log_level` settings:
// stderr, syslog (facility mail, ident "filterd") or a file. Start-up only.
#pragma once

#include <expected>
#include <string>

namespace filterd {

std::expected<void, std::string> setup_logging(const std::string& target, const std::string& level,
                                               const std::string& ident);

}  // namespace filterd
