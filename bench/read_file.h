// read_file.h — a whole file as bytes, for the benches ("" if unreadable).
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace filterd::bench {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace filterd::bench
