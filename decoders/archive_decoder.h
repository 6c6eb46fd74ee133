// archive_decoder.h — the libarchive decoder plugin: containers (zip, 7z,
// rar and rar5, tar, cpio, iso9660, cab, lha, ar and deb, rpm) become one
// child per regular member; a single compressed stream (gz, bz2, xz, lzma,
// lz, lz4, zst, Z) becomes one child, the decompressed stream, named after
// the part minus its suffix ("x.tar.gz" -> "x.tar"). One layer per call:
// nested archives are children, the walker recurses.
//
// Security stance: the input is hostile and libarchive (3.6.2 on Debian 12)
// has known hangs, so what it is asked to do is narrowed. It reads from
// memory only; filter chains are set explicitly, never bid for; no filter
// that would run an external program (lrzip, grzip, lzop) and no mtree
// (it reads local files) are enabled; xar is off (an endless loop in 3.6.2)
// and so is ISO 9660 Rock Ridge (a continuation loop that eats all memory).
// Member bytes go to the sink block by block and the decoder stops as soon
// as the sink says so, so an overlapping-entry zip bomb costs one byte
// quota, not its declared 500 GB. Header reads are capped, so a container
// of millions of empty entries ends too. What stays: time spent inside one
// libarchive call (e.g. skipping a member in a solid 7z block) cannot be
// interrupted; run decoders under a per-process CPU and memory limit.
//
// Diagnostics: `problem` says what went wrong ("damaged zip: Truncated ZIP
// file data", "encrypted 7z: ..."); encrypted members are emitted as
// encrypted children without content and make the result kEncrypted.
#pragma once

#include <cstddef>
#include <memory>

#include "decoders/decoder.h"

namespace filterd::decoders {

// The decoder's own bounds. The sink's limits (files, bytes, depth, time)
// come first; these only bound what the sink cannot see.
struct ArchiveDecoderLimits {
  // Headers read per container, skipped entries (directories, links)
  // included: the sink never sees those, so its file limit cannot end a
  // tar of a million directories.
  int max_headers = 100000;
  // ARCHIVE_RETRY answers in a row before the container is called damaged.
  int max_retries_in_a_row = 16;
  // Bytes asked of libarchive per read: the granularity of the byte quota.
  size_t block_size = 64 * 1024;
};

std::shared_ptr<const Decoder> make_archive_decoder(ArchiveDecoderLimits limits = {});

}  // namespace filterd::decoders
