// The files of the state directory (totals.json and its previous generation,
// the last good policy): read whole, replaced atomically, and set aside when
// damaged. The daemon never deletes a file it cannot use: it renames it so that an
// operator can look at it, and starts without it (docs/state.md).
//
// Thread safety: free functions over their arguments.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "gov/Result.hpp"

namespace gov::core {

// The whole content of `path`. Errors carry the errno (ENOENT: no such file).
Result<std::string> readStateFile(const std::string& path);

// Replaces `path` (a file in directory `dir`, created when missing, one level)
// with `data` so that a crash at any point leaves either the old or the new
// complete file: <path>.tmp is written and fsynced, `beforeRename` runs (the
// caller keeps a previous generation there; its error stops the save), the temp
// file is renamed over `path`, and `dir` is fsynced.
Result<void> replaceFileAtomically(const std::string& dir, const std::string& path,
                                   const std::string& data,
                                   const std::function<Result<void>()>& beforeRename = {});

// Renames `path` to "<path>.damaged-<UTC time of now>" ("totals.json.damaged-
// 20261129T044912Z"), with "-2", "-3"... appended when that name exists: never
// over another file. Returns the new path.
Result<std::string> setAside(const std::string& path, std::chrono::system_clock::time_point now);

}  // namespace gov::core
