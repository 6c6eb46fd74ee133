// clamav_engine.h — the in-process libclamav virus scanner.
//
// Loads every signature database in one directory (main.cvd, daily.cld,
// local .ndb/.hdb/...) into a compiled libclamav engine and scans memory
// buffers with it; no temporary file is written by filterd (libclamav
// itself may still extract some archive members to its temp directory).
//
// What a scan reports, so that the policy layer can rely on it:
//   - all-match mode: every matching signature, not just the first;
//   - every parser libclamav has is on (archives, mail, OLE2, PDF, HTML,
//     PE, ELF, ...), plus libclamav's default heuristic alerts;
//   - data that exceeds ClamavLimits is NOT passed as clean: it is reported
//     as a finding named "Heuristics.Limits.Exceeded.<Limit>" (e.g.
//     "Heuristics.Limits.Exceeded.MaxFileSize"). The policy layer maps
//     "Heuristics.Limits.*" to UNCHECKED rather than INFECTED. (clamd does
//     the same only with "AlertExceedsMax yes" in clamd.conf.)
//   - names from unsigned databases carry libclamav's ".UNOFFICIAL" suffix
//     ("Eicar-Test-Signature.UNOFFICIAL"), exactly as clamd reports them.
//
// Memory: a reload holds two compiled engines until the old one is idle;
// with the official databases that is roughly 2 x 1 GB.
#pragma once

#include <expected>
#include <memory>
#include <string>

#include "scanners/virus_scanner.h"

namespace filterd::scanners {

// Creates a scanner backed by an engine compiled from the databases in
// `db_dir`, with `limits` applied to every scan.
//
// Errors: kUnavailable when `db_dir` cannot be read or holds no valid
// database; kInternal when libclamav cannot be initialised.
//
// Thread safety: the returned scanner's methods may all be called
// concurrently. The compiled engine is shared read-only by scanning
// threads; reload() compiles a new engine and swaps it in, scans in flight
// finish on the engine they started with. Concurrent reloads are
// serialised. After a failed reload the old engine stays in service and
// database_changed() keeps returning true, so a poller retries.
//
// REQUIRES: the first call happens before worker threads run scans of
// their own through libclamav (it initialises libclamav process-wide and
// installs its log callback, which routes libclamav messages to spdlog).
std::expected<std::unique_ptr<VirusScanner>, ScanError> make_clamav_engine(std::string db_dir,
                                                                           ClamavLimits limits);

}  // namespace filterd::scanners
