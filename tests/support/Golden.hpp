// Shared by the tests that compare output with checked-in expected files: whether
// this run may rewrite those files instead of comparing.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace gov::testsupport {

// True when the environment variable `var` (e.g. GOV_UPDATE_GOLDEN) asks this run to
// rewrite the expected files. Refused under CI (the CI variable set, as every CI
// system sets it): there an update would turn every comparison into a write and the
// run would pass whatever the output is. The refusal is a test failure naming both
// variables, and the comparison then runs as usual.
inline bool updateExpectedFiles(const char* var) {
    const char* update = std::getenv(var);
    if (update == nullptr || *update == '\0')
        return false;
    const char* ci = std::getenv("CI");
    if (ci != nullptr && *ci != '\0') {
        ADD_FAILURE() << var << " is set while CI=" << ci
                      << ": expected files are never rewritten in CI; unset " << var;
        return false;
    }
    return true;
}

}  // namespace gov::testsupport
