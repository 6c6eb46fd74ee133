// scanner_factory.cc — see scanner_factory.h.
#include "filterd/scanner_factory.h"

#include "scanners/clamav_engine.h"
#include "scanners/clamd_scanner.h"

namespace filterd {

std::expected<std::unique_ptr<scanners::VirusScanner>, std::string> make_scanner(const Config& c) {
  auto s = c.clamav_backend == "clamd"
               ? scanners::make_clamd_scanner(
                     c.clamd_socket,
                     std::chrono::duration_cast<std::chrono::milliseconds>(c.clamd_timeout))
               : scanners::make_clamav_engine(c.clamav_db, c.clamav_limits);
  if (!s) return std::unexpected(s.error().message);
  return std::move(*s);
}

}  // namespace filterd
