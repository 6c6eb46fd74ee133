// virus_scanner.h — the contract every virus scanner backend fulfils.
//
// A VirusScanner looks at a byte buffer (a whole message or one decoded
// part) and says whether it carries a known virus. Backends: the in-process
// libclamav engine (clamav_engine.h) and a clamd client (clamd_scanner.h).
//
// Thread safety: scan() is called concurrently from every worker thread
// and must be safe for that; reload() may run at the same time as scans.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace filterd::scanners {

// At most this many distinct names are kept per scan. In all-match mode a
// crafted archive can match thousands of signatures; the first few are
// enough for the verdict, and the list ends up in logs and headers.
inline constexpr std::size_t kMaxVirusNames = 32;

struct VirusScanResult {
  // Empty when the data is clean; otherwise the distinct signature names
  // found (e.g. "Eicar-Test-Signature"), in the order the scanner reported
  // them, at most kMaxVirusNames.
  std::vector<std::string> viruses;

  bool infected() const { return !viruses.empty(); }
};

// Why a scan could not give an answer. Any ScanError means "unknown", never
// "clean": the caller must not pass the message silently.
struct ScanError {
  enum class Kind {
    kUnavailable,  // engine not loaded, clamd unreachable
    kTimeout,      // clamd did not answer in time
    kLimit,        // the scanner refused: size, recursion or file limits
    kProtocol,     // clamd answered something we cannot parse
    kInternal,     // libclamav returned an unexpected error
  };
  Kind kind = Kind::kInternal;
  std::string message;  // for the log; never contains message content
};

// Whether `fd` is a regular file of exactly `size` bytes, i.e. one a
// backend may read instead of the bytes in memory (ScanOptions::fd).
inline bool fd_holds(int fd, size_t size) {
  struct stat st;
  return fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
         static_cast<size_t>(st.st_size) == size;
}

struct ScanOptions {
  // An open descriptor of a file holding exactly the data (a large decoded
  // part spilled to disk), or -1: the scanner then reads the file a window
  // at a time instead of faulting all of the data's pages into memory.
  int fd = -1;
};

class VirusScanner {
 public:
  virtual ~VirusScanner() = default;

  // Scans `data`. `name` is a label for the log (e.g. "p002 invoice.zip");
  // it is not interpreted. REQUIRES: data (and options.fd) stay valid for
  // the call, and options.fd, if given, holds exactly data.
  std::expected<VirusScanResult, ScanError> scan(std::string_view data, std::string_view name,
                                                 const ScanOptions& options = {}) {
    return do_scan(data, name, options);
  }

  // Recompiles signatures (libclamav) or is a no-op (clamd reloads itself).
  // On failure the previous engine stays in service and the error is returned.
  virtual std::expected<void, ScanError> reload() = 0;

  // True when the signature database changed on disk since the last load.
  virtual bool database_changed() { return false; }

  // Short description for logs and the X-Virus-Scanned header,
  // e.g. "ClamAV 1.4.6 (libclamav, 2 signatures)".
  virtual std::string describe() const = 0;

 private:
  virtual std::expected<VirusScanResult, ScanError> do_scan(std::string_view data,
                                                            std::string_view name,
                                                            const ScanOptions& options) = 0;
};

// Engine limits passed to libclamav (and documented in etc/filterd.conf).
// Defaults follow clamd.conf's defaults so that verdicts agree with clamd.
struct ClamavLimits {
  unsigned long long max_scan_size = 400ULL << 20;  // MaxScanSize
  unsigned long long max_file_size = 100ULL << 20;  // MaxFileSize
  unsigned max_recursion = 17;                      // MaxRecursion
  unsigned max_files = 10000;                       // MaxFiles
  unsigned max_scan_time_ms = 120000;               // MaxScanTime
  // TemporaryDirectory: libclamav makes a directory here for every scan,
  // and writes extracted members into it; "" = $TMPDIR or /tmp.
  std::string temp_dir;
};

}  // namespace filterd::scanners
