// logging.cc — see logging.h.
#include "filterd/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>

namespace filterd {

std::expected<void, std::string> setup_logging(const std::string& target, const std::string& level,
                                               const std::string& ident) {
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (target == "syslog") {
      logger = std::make_shared<spdlog::logger>(
          ident, std::make_shared<spdlog::sinks::syslog_sink_mt>(ident, LOG_PID, LOG_MAIL, false));
      logger->set_pattern("%v");  // syslog adds time, host and pid
    } else if (target.starts_with("file:")) {
      logger = std::make_shared<spdlog::logger>(
          ident, std::make_shared<spdlog::sinks::basic_file_sink_mt>(target.substr(5)));
      logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e " + ident + "[%P]: %l: %v");
    } else {
      logger = std::make_shared<spdlog::logger>(ident,
                                                std::make_shared<spdlog::sinks::stderr_sink_mt>());
      logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e " + ident + "[%P]: %l: %v");
    }
  } catch (const spdlog::spdlog_ex& e) {
    return std::unexpected(std::string("log: ") + e.what());
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return {};
}

}  // namespace filterd
