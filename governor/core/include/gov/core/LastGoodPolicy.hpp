// The last good policy: the texts of the policy last put in force from the
// configured files (or the built-in default), kept in the state directory as
// <dir>/policy.last-good.json (docs/state.md). A daemon started while the files
// are invalid (a bad edit pushed by config management) runs it instead of running
// ungoverned; the built-in default is only for a host that never had one.
//
// Thread safety: none; the Governor's thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "gov/Result.hpp"
#include "gov/policies/Compile.hpp"

namespace gov::core {

// The file's text: {"version": 1, "sources": [{"name": ..., "text": ...}, ...]},
// the sources in merge order; no sources means the built-in default policy.
std::string lastGoodToJson(const std::vector<policies::PolicySource>& sources);
Result<std::vector<policies::PolicySource>> lastGoodFromJson(const std::string& text);

class LastGoodPolicy {
  public:
    explicit LastGoodPolicy(std::string dir) : dir_(std::move(dir)) {}

    // Keeps `sources` (atomically: StateFiles.hpp); nothing is written when they are
    // what this object saved or loaded last.
    Result<void> save(const std::vector<policies::PolicySource>& sources);

    // What was kept: nullopt when nothing ever was; an error when the file cannot be
    // used (it is then set aside, never deleted, and the error says where).
    Result<std::optional<std::vector<policies::PolicySource>>> load(
        std::chrono::system_clock::time_point now);

    std::string path() const { return dir_ + "/policy.last-good.json"; }

  private:
    std::string dir_;
    std::optional<std::vector<policies::PolicySource>> saved_;
};

// Compiles kept sources: the built-in default policy for none.
policies::CompileResult compileLastGood(const std::vector<policies::PolicySource>& sources);

}  // namespace gov::core
