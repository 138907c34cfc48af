// The knob table's own rules: every row is consistent (its kind fits its field, its
// key is unique, its default is what the kernel shows), and every row drives the
// compiler and the cgroup writes without code of its own.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "gov/policies/CgroupWrites.hpp"
#include "gov/policies/Compile.hpp"
#include "gov/policies/Knobs.hpp"

namespace gov::policies {
namespace {

// A value of `kind` that is not the kernel default of any row.
KnobValue sampleValue(ValueKind kind) {
    switch (kind) {
        case ValueKind::Size:
        case ValueKind::Rate:
        case ValueKind::Count:
            return MaxOr::of(7);
        case ValueKind::Weight:
            return uint32_t{250};
        case ValueKind::Flag:
            return true;
        case ValueKind::Duration:
            return uint64_t{5000};
        case ValueKind::CpuBandwidth:
            return CpuMax{20000, 100000};
        case ValueKind::IdList:
            return std::string("0-1");
    }
    return MaxOr::max();
}

// The same value as a policy would write it.
std::string sampleToml(ValueKind kind) {
    switch (kind) {
        case ValueKind::Size:
            return "7";
        case ValueKind::Rate:
            return "\"7B/s\"";
        case ValueKind::Count:
            return "7";
        case ValueKind::Weight:
            return "250";
        case ValueKind::Flag:
            return "true";
        case ValueKind::Duration:
            return "\"5ms\"";
        case ValueKind::CpuBandwidth:
            return "\"20%\"";
        case ValueKind::IdList:
            return "\"0-1\"";
    }
    return "";
}

TEST(Knobs, KeysAreUniqueAndFilesAreUniqueButForTheKeysOfIoMaxLines) {
    std::set<std::string_view> keys;
    std::set<std::string_view> files;
    for (const auto& k : knobs()) {
        EXPECT_TRUE(keys.insert(k.key).second) << k.key;
        if (isIoMaxKey(k)) {
            EXPECT_EQ(k.file, "io.max") << k.key;
            EXPECT_FALSE(k.ioMaxKey.empty()) << k.key;
        } else {
            EXPECT_TRUE(files.insert(k.file).second) << k.file;
            EXPECT_EQ(findKnobByFile(k.file), &k);
        }
        EXPECT_EQ(findKnob(k.key), &k);
        EXPECT_EQ(k.file.substr(0, k.controller.size()), k.controller) << k.key;
        EXPECT_FALSE(k.summary.empty()) << k.key;
    }
    EXPECT_EQ(findKnob("memory.maximum"), nullptr);
}

TEST(Knobs, EveryRowsFieldHoldsTheTypeOfItsKind) {
    for (const auto& k : knobs()) {
        const KnobValue v = sampleValue(k.kind);
        if (isIoMaxKey(k)) {
            IoLimit io;
            setKnobValue(k, io, v);
            EXPECT_EQ(knobValue(k, io), v) << k.key;
            EXPECT_FALSE(io.empty()) << k.key;
            EXPECT_EQ(knobValue(k, Resources{}), std::nullopt) << k.key;
        } else {
            Resources r;
            ASSERT_TRUE(r.empty());
            setKnobValue(k, r, v);
            EXPECT_EQ(knobValue(k, r), v) << k.key;
            EXPECT_FALSE(r.empty()) << k.key;
            clearKnobValue(k, r);
            EXPECT_TRUE(r.empty()) << k.key;
        }
    }
}

// What a row's key needs beside it in the same group to compile.
const std::map<std::string_view, std::string> kNeeds = {
    {"cpu.burst", "cpu.max = \"50%\""},
};

TEST(Knobs, EveryRowIsCompiledFromItsKeyIntoItsField) {
    for (const auto& k : knobs()) {
        std::string needs;
        if (auto it = kNeeds.find(k.key); it != kNeeds.end()) {
            needs = it->second;
        }
        const std::string text = "[classes.t]\n" + std::string(k.key) + " = " + sampleToml(k.kind) +
                                 "\nworkload." + std::string(k.key) + " = " + sampleToml(k.kind) +
                                 "\n" + (needs.empty() ? "" : needs + "\nworkload." + needs + "\n");
        auto compiled = compileText(text, "t.toml");
        ASSERT_TRUE(compiled.ok())
            << k.key << ": "
            << (compiled.diagnostics.empty() ? "" : compiled.diagnostics.front().format());
        const ClassPolicy& c = compiled.policy->classes.front();
        for (const Resources* r : {&c.limits, &c.workloadLimits}) {
            if (isIoMaxKey(k)) {
                ASSERT_EQ(r->io.size(), 1u) << k.key;
                EXPECT_EQ(knobValue(k, r->io.front()), sampleValue(k.kind)) << k.key;
            } else {
                EXPECT_EQ(knobValue(k, *r), sampleValue(k.kind)) << k.key;
            }
        }
    }
}

TEST(Knobs, EveryRowIsWrittenToItsFileAndUnsetRowsGetTheirKernelDefault) {
    DeviceTable disk;
    disk.wholeDisks = {"8:0"};
    auto unset = desiredWrites(Resources{}, disk);
    ASSERT_TRUE(unset.ok());
    for (const auto& w : *unset) {
        const Knob* k = findKnobByFile(w.file);
        ASSERT_NE(k, nullptr) << w.file;
        EXPECT_EQ(w.value, k->kernelDefault) << w.file;
        EXPECT_TRUE(w.kernelDefault) << w.file;
    }
    for (const auto& k : knobs()) {
        Resources r;
        if (isIoMaxKey(k)) {
            IoLimit all;
            setKnobValue(k, all, sampleValue(k.kind));
            r.io.push_back(all);
        } else {
            setKnobValue(k, r, sampleValue(k.kind));
        }
        auto writes = desiredWrites(r, disk);
        ASSERT_TRUE(writes.ok()) << k.key;
        size_t changed = 0;
        for (const auto& w : *writes) {
            if (w.kernelDefault) {
                continue;
            }
            ++changed;
            EXPECT_EQ(w.file, k.file) << k.key;
            EXPECT_EQ(w.key, k.key) << k.key;
            const std::string text = cgroupText(k, sampleValue(k.kind));
            EXPECT_NE(w.value.find(text), std::string::npos) << k.key << ": " << w.value;
        }
        EXPECT_EQ(changed, 1u) << k.key;
    }
}

TEST(Knobs, ResourceKeysFollowTheTableWithIoDeviceAfterTheIoMaxKeys) {
    const auto& keys = resourceKeys();
    ASSERT_EQ(keys.size(), knobs().size() + 1);
    auto device = std::find(keys.begin(), keys.end(), "io.device");
    ASSERT_NE(device, keys.end());
    EXPECT_EQ(*(device - 1), "io.write_iops");
    EXPECT_EQ(keys.front(), "memory.max");
}

TEST(Knobs, ValuesAreShownInCgroupSyntaxForPeopleAndAsMetrics) {
    const Knob& memoryMax = *findKnob("memory.max");
    EXPECT_EQ(cgroupText(memoryMax, MaxOr::of(1073741824)), "1073741824");
    EXPECT_EQ(humanText(memoryMax, MaxOr::of(1073741824)), "1 GiB");
    EXPECT_EQ(humanText(memoryMax, MaxOr::max()), "max");
    EXPECT_EQ(metricValue(memoryMax, MaxOr::of(1073741824)), 1073741824.0);
    EXPECT_EQ(metricValue(memoryMax, MaxOr::max()), std::nullopt);

    const Knob& writeBps = *findKnob("io.write_bps");
    EXPECT_EQ(humanText(writeBps, MaxOr::of(1000000)), "1 MB/s");
    EXPECT_EQ(cgroupText(writeBps, MaxOr::of(1000000)), "1000000");

    const Knob& pids = *findKnob("pids.max");
    EXPECT_EQ(humanText(pids, MaxOr::of(1000)), "1000");

    const Knob& cpuMax = *findKnob("cpu.max");
    EXPECT_EQ(cgroupText(cpuMax, CpuMax{50000, 100000}), "50000 100000");
    EXPECT_EQ(humanText(cpuMax, CpuMax{50000, 100000}), "50%");
    EXPECT_EQ(humanText(cpuMax, CpuMax{1000, 3000}), "1ms/3ms");
    EXPECT_EQ(humanText(cpuMax, CpuMax{std::nullopt, 50000}), "max/50ms");
    EXPECT_EQ(metricValue(cpuMax, CpuMax{250000, 100000}), 2.5);
    EXPECT_EQ(metricValue(cpuMax, CpuMax{}), std::nullopt);

    const Knob& weight = *findKnob("cpu.weight");
    EXPECT_EQ(cgroupText(weight, uint32_t{50}), "50");
    EXPECT_EQ(metricValue(weight, uint32_t{50}), 50.0);

    // io.weight reads back as "default 100": written so, it compares equal.
    const Knob& ioWeight = *findKnob("io.weight");
    EXPECT_EQ(cgroupText(ioWeight, uint32_t{400}), "default 400");
    EXPECT_EQ(humanText(ioWeight, uint32_t{400}), "400");

    const Knob& cpus = *findKnob("cpuset.cpus");
    EXPECT_EQ(humanText(cpus, std::string("0-3,8")), "0-3,8");
    EXPECT_EQ(metricValue(cpus, std::string("0-3,8")), std::nullopt);
}

TEST(Knobs, CgroupTextReadsBackIntoAValueWhereItIsOne) {
    EXPECT_EQ(valueOfCgroupText(*findKnob("memory.oom.group"), "1"), KnobValue(true));
    EXPECT_EQ(valueOfCgroupText(*findKnob("memory.max"), "max"), KnobValue(MaxOr::max()));
    EXPECT_EQ(valueOfCgroupText(*findKnob("io.weight"), "default 100"), KnobValue(uint32_t{100}));
    EXPECT_EQ(valueOfCgroupText(*findKnob("memory.oom.group"), "2"), std::nullopt);
    EXPECT_EQ(valueOfCgroupText(*findKnob("cpu.max"), "max 100000"), std::nullopt);
    for (const auto& k : knobs()) {
        if (!k.workloadDefault.empty()) {
            EXPECT_TRUE(valueOfCgroupText(k, k.workloadDefault)) << k.key;
        }
    }
}

TEST(Knobs, EveryRowIsInTheKnobTableOfTheDocs) {
    std::ifstream in(std::string(GOV_SOURCE_DIR) + "/docs/policy.md");
    ASSERT_TRUE(in) << "docs/policy.md";
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& k : knobs()) {
        const std::string row = "| `" + std::string(k.key) + "` | `" + std::string(k.file) + "`";
        EXPECT_NE(text.str().find(row), std::string::npos) << "no row for " << k.key;
    }
}

}  // namespace
}  // namespace gov::policies
