// filterctl — the admin's command-line tool.
//
//   filterctl scan [--config FILE] [--clamav-db DIR] FILE... | -
//
// scan classifies messages or plain files offline with the same engine and
// settings as the daemon. Output like clamscan: "FILE: OK",
// "FILE: NAME FOUND", "FILE: ERROR reason". Exit 0 all clean, 1 something
// blocking found, 2 an error (which wins: an unscanned file is not clean).
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "filterd/config.h"
#include "filterd/scanner_factory.h"

namespace {

constexpr const char* kUsage =
    "usage: filterctl scan [--config FILE] [--clamav-db DIR] FILE... | -\n";

std::optional<std::string> read_all(const std::string& path) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), {});
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(ss).str();
}

int scan(int argc, char** argv) {
  filterd::LoadOptions load;
  std::vector<std::string> files;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* flag) -> std::optional<std::string> {
      if (a == flag && i + 1 < argc) return std::string(argv[++i]);
      if (a.starts_with(std::string(flag) + "=")) return a.substr(std::string(flag).size() + 1);
      return std::nullopt;
    };
    if (auto v = value("--config")) {
      load.config_file = *v;
    } else if (auto d = value("--clamav-db")) {
      load.overrides.push_back("--clamav_db=" + *d);
      load.overrides.push_back("--clamav_backend=libclamav");
    } else if (a == "-" || !a.starts_with("-")) {
      files.push_back(a);
    } else {
      std::cerr << "filterctl scan: unknown option '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (files.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  auto config = filterd::load_config(load);
  if (!config) {
    std::cerr << "filterctl: " << config.error() << "\n";
    return 2;
  }
  auto scanner = filterd::make_scanner(*config);
  if (!scanner) {
    std::cerr << "filterctl: virus scanner: " << scanner.error() << "\n";
    return 2;
  }
  int status = 0;
  for (const auto& f : files) {
    const std::string label = f == "-" ? "stdin" : f;
    auto data = read_all(f);
    if (!data) {
      std::cout << label << ": ERROR cannot read\n";
      status = 2;
      continue;
    }
    auto result = (*scanner)->scan(*data, label);
    if (!result) {
      std::cout << label << ": ERROR " << result.error().message << "\n";
      status = 2;
    } else if (result->infected()) {
      std::cout << label << ":";
      for (const auto& v : result->viruses) std::cout << " " << v;
      std::cout << " FOUND\n";
      if (status == 0) status = 1;
    } else {
      std::cout << label << ": OK\n";
    }
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  // stdout carries only verdict lines; diagnostics go to stderr.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("filterctl"));
  spdlog::set_level(spdlog::level::warn);
  if (argc >= 2 && std::string(argv[1]) == "scan") return scan(argc - 2, argv + 2);
  std::cerr << kUsage;
  return 2;
}
