// Every file Driftscope writes goes through writeFileAtomically: the content goes to a
// temporary file in the same folder, is flushed and fsync'ed, and is then renamed over
// the target. A failure (unwritable folder, disk full, a directory in the way) returns
// a Status naming the path and leaves neither a partial file nor a damaged old one.
#pragma once

#include <functional>
#include <ostream>
#include <string>

#include "core/status.h"

namespace driftscope {

// `write` streams the content; it may return an error Status to abort the write.
Status writeFileAtomically(const std::string& path,
                           const std::function<Status(std::ostream&)>& write);

Status writeTextFileAtomically(const std::string& path, const std::string& content);

// Creates the folder (and parents) if needed; error if a file stands in the way or it
// cannot be created.
Status ensureDirectory(const std::string& path);

}  // namespace driftscope
