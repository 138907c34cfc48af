// governord's command line.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "gov/Result.hpp"

namespace gov::daemon {

inline constexpr const char* kDefaultPolicyFile = "/etc/governor/policy.toml";
inline constexpr const char* kDefaultPolicyDir = "/etc/governor/policy.d";
inline constexpr const char* kDefaultStateDir = "/var/lib/governor";

struct Options {
    std::vector<std::string> policyFiles;  // --policy (repeatable)
    std::string policyDir;                 // --policy-dir
    std::string cgroupRoot;                // --cgroup-root; empty = automatic
    // Filled by resolveDefaults: the cgroup2 mount, and whether the daemon enables
    // controllers in the groups between it and the root (not under systemd, whose
    // groups those are).
    std::string cgroupMount;
    bool enableAncestors = false;
    // The mount's memory_recursiveprot option, and whether the daemon writes its
    // root's memory protection (not under systemd): see GovernorConfig.
    bool memoryRecursiveProt = false;
    bool rootProtection = false;
    std::string stateDir;                            // --state-dir
    std::string logLevel = "info";                   // --log-level
    std::chrono::milliseconds rescanInterval{5000};  // --rescan-interval (seconds)
    std::string metricsListen = "127.0.0.1:9783";    // --metrics-listen HOST:PORT; "" = off
    std::string bus = "system";  // --bus: "system", a D-Bus address, or "" = no D-Bus service
};

// Parses argv. Returns the options, or nullopt with `exitCode` set when the program
// should exit now (--help / --version: 0, usage error: 2; the message is printed).
std::optional<Options> parseOptions(int argc, char** argv, int& exitCode);

// Fills in the documented defaults for what the command line left unset:
// - policy: neither --policy nor --policy-dir leaves both empty: the daemon then
//   uses /etc/governor/policy.toml and /etc/governor/policy.d, whichever exists at
//   each (re)load, and the built-in default policy when neither does;
// - state dir: $STATE_DIRECTORY (systemd's StateDirectory=) or /var/lib/governor;
// - cgroup root: under systemd (INVOCATION_ID set) the service's own cgroup, which
//   Delegate=yes hands to the daemon; otherwise <cgroup2 mount>/governor.
Result<Options> resolveDefaults(Options options, const std::string& procRoot = "/proc");

}  // namespace gov::daemon
