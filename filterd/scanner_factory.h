// scanner_factory.h — builds the configured virus scanner backend
// (shared by the daemon and filterctl, so both scan the same way).
#pragma once

#include <expected>
#include <memory>
#include <string>

#include "filterd/config.h"
#include "scanners/virus_scanner.h"

namespace filterd {

std::expected<std::unique_ptr<scanners::VirusScanner>, std::string> make_scanner(
    const Config& config);

}  // namespace filterd
