// content_scan.h — what filterd learns about one message's content: the
// decoded part tree and the virus scanner's findings on the raw message and
// on every decoded part, with the part that held each virus. Shared by the
// daemon's pipeline and `filterctl scan` so both see exactly the same.
//
// Thread safety: scan_content() runs on worker threads; the registry and
// the scanner are shared (both are thread-safe).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "decoders/decoder.h"
#include "decoders/message_decoder.h"
#include "policy/settings.h"
#include "policy/verdict.h"
#include "scanners/virus_scanner.h"

namespace filterd {

struct ContentScan {
  decoders::DecodeResult decoded;
  policy::Findings findings;
  std::chrono::steady_clock::duration decode{}, scan{};  // wall time of each
};

// Decodes `message` and scans the raw message (libclamav parses it as mail
// too) and every decoded part but the containers we unpacked cleanly; checks banned names and the
// header section as the policy bank says (8-bit header fields are fine
// with `smtputf8`). Spam is not checked here.
ContentScan scan_content(std::string_view message, scanners::VirusScanner& scanner,
                         const decoders::DecoderRegistry& registry,
                         const decoders::DecodeLimits& limits, const policy::Settings& policy,
                         bool smtputf8 = false);

}  // namespace filterd
