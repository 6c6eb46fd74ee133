// scanner_contract.h — checks every VirusScanner backend must pass, shared
// by the libclamav and the clamd tests.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scanners/virus_scanner.h"
#include "tests/unit/test_data.h"

namespace filterd::testing {

// A large part on disk is read from its descriptor (ScanOptions::fd), a
// window at a time, not through the bytes in memory. The file written here
// differs from the bytes passed (a broken REQUIRES, on purpose) to show which
// of the two the scanner read; a file of another size is not the part, and
// the bytes are scanned then. `eicar_name` is the name the backend reports.
inline void expect_part_on_disk_read_from_its_fd(scanners::VirusScanner& scanner,
                                                 const std::filesystem::path& file, size_t padding,
                                                 const std::string& eicar_name) {
  const std::string on_disk = std::string(padding, 'a') + eicar();
  std::ofstream(file, std::ios::binary) << on_disk;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const std::string in_memory(on_disk.size(), 'b');
  auto result = scanner.scan(in_memory, "p001", {.fd = fd});
  auto fallback = scanner.scan(eicar(), "p001", {.fd = fd});
  ::close(fd);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_EQ(result->viruses, std::vector<std::string>{eicar_name});
  ASSERT_TRUE(fallback.has_value()) << fallback.error().message;
  EXPECT_EQ(fallback->viruses, std::vector<std::string>{eicar_name});
}

}  // namespace filterd::testing
