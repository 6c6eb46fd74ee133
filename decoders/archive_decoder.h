// archive_decoder.h — the libarchive decoder plugin: containers (zip, 7z,
// rar and rar5, tar, cpio, iso9660, cab, lha, ar and deb, rpm, xar) become one
// child per regular member; a single compressed stream (gz, bz2, xz, lzma,
// lz, lz4, zst, Z) becomes one child, the decompressed stream, named after
// the part minus its suffix ("x.tar.gz" -> "x.tar").
//
// Security stance: the input is hostile. libarchive reads from memory only;
// no filter that would run an external program (lrzip, grzip, lzop without
// liblzo2, ...) is enabled, and neither is mtree, whose entries name files
// on the local disk. Member bytes go to the sink block by block and the
// decoder stops as soon as the sink says so, so an overlapping-entry zip
// bomb costs one byte quota, not its declared 500 GB. Header reads are
// capped, so a container of millions of empty entries, or a reader that
// keeps answering ARCHIVE_RETRY, ends too.
//
// Diagnostics: `problem` says what went wrong ("damaged zip: Truncated ZIP
// file data"); encrypted members are emitted as encrypted children without
// content and make the result kEncrypted.
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
